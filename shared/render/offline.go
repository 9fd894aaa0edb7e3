package render

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"sigs.k8s.io/kustomize/kyaml/yaml"
)

// refused holds the URLs a worker's renderers asked for.
var refused struct {
	sync.Mutex
	urls []string
}

func refusedURLs() []string {
	refused.Lock()
	defer refused.Unlock()
	return append([]string(nil), refused.urls...)
}

// offlineTransport answers every request with an error and sends nothing.
type offlineTransport struct{}

func (offlineTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	refused.Lock()
	refused.urls = append(refused.urls, req.URL.String())
	refused.Unlock()
	return nil, fmt.Errorf("renders are offline: %s was not fetched: %w", req.URL, ErrRemote)
}

// errOffline answers every DNS query and dial of a worker.
var errOffline = fmt.Errorf("renders are offline: %w", ErrRemote)

// offline cuts the worker process off the network before it renders: kustomize
// fetches a URL in any field that takes a path through net/http's default client,
// and clones a Git URL with the git program. Replacing the default transport and
// resolver and emptying PATH covers every such field at once, the ones we know and
// the ones a later kustomize adds.
func offline() {
	http.DefaultTransport = offlineTransport{}
	http.DefaultClient = &http.Client{Transport: offlineTransport{}}
	net.DefaultResolver = &net.Resolver{PreferGo: true, Dial: func(context.Context, string, string) (net.Conn, error) {
		return nil, errOffline
	}}
	_ = os.Setenv("PATH", "")
}

// remoteError names, for each URL the render asked for, the file and field that hold
// it among the files the render read, and says how to mend it.
func remoteError(opts Options, inputs []Input, urls []string) error {
	root := opts.RepoRoot
	if root == "" {
		root = opts.Path
	}
	var where []string
	for _, u := range urls {
		at := locateURL(root, inputs, u, opts.Limits.withDefaults())
		if at == "" {
			at = fmt.Sprintf("%q", u)
		}
		where = append(where, at)
	}
	return fmt.Errorf("%s: %w; promotion-gate renders offline: vendor the content into the repository and refer to it by a relative path",
		strings.Join(where, "; "), ErrRemote)
}

// locateURL finds the YAML field that holds url in the files the render read:
// "apps/x/kustomization.yaml: generators[0].envs[0] \"http://…\"".
func locateURL(root string, inputs []Input, url string, limits Limits) string {
	for _, in := range inputs {
		if in.Kind != InputFile {
			continue
		}
		data, err := os.ReadFile(filepath.Join(root, filepath.FromSlash(in.Path)))
		if err != nil || int64(len(data)) > limits.MaxFileBytes || !bytes.Contains(data, []byte(url)) {
			continue
		}
		dec := yaml.NewDecoder(bytes.NewReader(data))
		for {
			var doc yaml.Node
			if err := dec.Decode(&doc); err != nil {
				break
			}
			if field, value, ok := findScalar(&doc, url, ""); ok {
				return fmt.Sprintf("%s: %s%s %q", in.Path, configName(&doc), strings.TrimPrefix(field, "."), value)
			}
		}
	}
	return ""
}

// configName is "Kind name: " for a generator or transformer configuration (a
// document with a kind other than Kustomization), else "".
func configName(doc *yaml.Node) string {
	rn := yaml.NewRNode(doc)
	kind := rn.GetKind()
	if kind == "" || kind == "Kustomization" || kind == "Component" {
		return ""
	}
	return kind + " " + rn.GetName() + ": "
}

// findScalar returns the path of the first scalar under n that contains s.
func findScalar(n *yaml.Node, s, path string) (string, string, bool) {
	switch n.Kind {
	case yaml.ScalarNode:
		return path, n.Value, strings.Contains(n.Value, s)
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			if p, v, ok := findScalar(n.Content[i+1], s, path+"."+n.Content[i].Value); ok {
				return p, v, ok
			}
		}
	case yaml.SequenceNode:
		for i, c := range n.Content {
			if p, v, ok := findScalar(c, s, fmt.Sprintf("%s[%d]", path, i)); ok {
				return p, v, ok
			}
		}
	case yaml.DocumentNode:
		for _, c := range n.Content {
			if p, v, ok := findScalar(c, s, path); ok {
				return p, v, ok
			}
		}
	}
	return "", "", false
}
