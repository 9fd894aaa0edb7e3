// Command promotion-gate-images builds the project's container images without a
// container engine (see package images), and publishes them with their referrers.
//
//	promotion-gate-images build [-out dist/images] [-platforms linux/amd64,linux/arm64] [-key signing.pem] [-version v0.1.0]
//	promotion-gate-images push -layout dist/images/flux-gate -to registry.example.com/promotion-gate/flux-gate:v0.1.0
//	promotion-gate-images keygen -out signing    # signing.pem and signing.pub
//
// `make images` runs build from the repository root.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/promotion-gate/promotion-gate/test/images"
)

func main() {
	if err := run(context.Background(), os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "promotion-gate-images:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return errors.New("usage: promotion-gate-images build|push|keygen [flags]")
	}
	switch args[0] {
	case "build":
		return build(ctx, args[1:], stdout, stderr)
	case "push":
		return push(ctx, args[1:], stdout)
	case "keygen":
		return keygen(args[1:], stdout)
	}
	return fmt.Errorf("unknown command %q: use build, push or keygen", args[0])
}

func build(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("build", flag.ContinueOnError)
	root := fs.String("root", ".", "repository root")
	out := fs.String("out", "dist/images", "output directory: one OCI layout per image, and <image>.sbom, <image>.sig for its referrers")
	platforms := fs.String("platforms", "linux/amd64,linux/arm64", "comma-separated os/arch list")
	key := fs.String("key", "", "unencrypted ECDSA P-256 private key (PEM) to sign each image with; empty: unsigned")
	version := fs.String("version", "", "version label and --version of the programs (default: git describe)")
	revision := fs.String("revision", "", "revision label (default: git rev-parse HEAD)")
	source := fs.String("source", "https://github.com/promotion-gate/promotion-gate", "source label")
	only := fs.String("images", "", "comma-separated image names to build (default: all)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	opts := images.Options{Root: *root, Out: *out, Version: *version, Revision: *revision, Source: *source, Log: stderr}
	var err error
	if opts.Platforms, err = parsePlatforms(*platforms); err != nil {
		return err
	}
	if opts.Revision == "" {
		if opts.Revision, err = git(*root, "rev-parse", "HEAD"); err != nil {
			return err
		}
	}
	if opts.Version == "" {
		if opts.Version, err = git(*root, "describe", "--tags", "--always", "--dirty"); err != nil {
			return err
		}
	}
	if opts.Created, err = created(*root); err != nil {
		return err
	}
	if *key != "" {
		if opts.Key, err = images.LoadKey(*key); err != nil {
			return err
		}
	}
	specs := images.All
	if *only != "" {
		specs = nil
		for _, n := range strings.Split(*only, ",") {
			s, ok := byName(n)
			if !ok {
				return fmt.Errorf("unknown image %q; images: flux-gate, argocd-promotion-gate", n)
			}
			specs = append(specs, s)
		}
	}
	results, err := images.Build(ctx, opts, specs...)
	if err != nil {
		return err
	}
	type summary struct {
		Image     string            `json:"image"`
		Layout    string            `json:"layout"`
		Digest    string            `json:"digest"`
		Manifests map[string]string `json:"manifests"`
		SBOM      string            `json:"sbom"`
		Signature string            `json:"signature,omitempty"`
	}
	var sums []summary
	for _, r := range results {
		s := summary{Image: r.Spec.Name, Layout: r.Layout, Digest: r.Index.String(), Manifests: map[string]string{}, SBOM: r.SBOM.Digest.String()}
		for p, d := range r.Manifests {
			s.Manifests[p] = d.String()
		}
		if r.Signature.Layout != "" {
			s.Signature = r.Signature.Digest.String()
		}
		sums = append(sums, s)
	}
	data, err := json.MarshalIndent(sums, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(*out, "images.json"), append(data, '\n'), 0o644); err != nil {
		return err
	}
	_, err = fmt.Fprintf(stdout, "%s\n", data)
	return err
}

func push(ctx context.Context, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("push", flag.ContinueOnError)
	dir := fs.String("layout", "", "the image's layout directory (e.g. dist/images/flux-gate)")
	to := fs.String("to", "", "where to push it, with a tag (e.g. registry.example.com/promotion-gate/flux-gate:v0.1.0)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *dir == "" || *to == "" {
		return errors.New("push needs -layout and -to")
	}
	ref, err := name.NewTag(*to)
	if err != nil {
		return fmt.Errorf("-to %s: %w", *to, err)
	}
	d, err := images.Push(ctx, *dir, ref, remote.WithAuthFromKeychain(authn.DefaultKeychain))
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(stdout, "%s@%s\n", ref.Context(), d)
	return err
}

func keygen(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("keygen", flag.ContinueOnError)
	out := fs.String("out", "signing", "file name prefix: <out>.pem (private, mode 0600) and <out>.pub")
	if err := fs.Parse(args); err != nil {
		return err
	}
	k, priv, err := images.NewKey()
	if err != nil {
		return err
	}
	pub, err := images.PublicKeyPEM(k)
	if err != nil {
		return err
	}
	if err := os.WriteFile(*out+".pem", priv, 0o600); err != nil {
		return err
	}
	if err := os.WriteFile(*out+".pub", pub, 0o644); err != nil {
		return err
	}
	_, err = fmt.Fprintf(stdout, "wrote %s.pem and %s.pub\n", *out, *out)
	return err
}

func byName(n string) (images.Spec, bool) {
	for _, s := range images.All {
		if s.Name == strings.TrimSpace(n) {
			return s, true
		}
	}
	return images.Spec{}, false
}

func parsePlatforms(s string) ([]v1.Platform, error) {
	var out []v1.Platform
	for _, p := range strings.Split(s, ",") {
		os, arch, ok := strings.Cut(strings.TrimSpace(p), "/")
		if !ok || os != "linux" || arch == "" {
			return nil, fmt.Errorf("platform %q: write linux/<arch>, e.g. linux/amd64", p)
		}
		out = append(out, v1.Platform{OS: os, Architecture: arch})
	}
	return out, nil
}

// created is SOURCE_DATE_EPOCH when set, else the time of the commit: the same commit
// always builds the same bytes.
func created(root string) (time.Time, error) {
	epoch := os.Getenv("SOURCE_DATE_EPOCH")
	if epoch == "" {
		var err error
		if epoch, err = git(root, "log", "-1", "--format=%ct"); err != nil {
			return time.Time{}, err
		}
	}
	sec, err := strconv.ParseInt(epoch, 10, 64)
	if err != nil {
		return time.Time{}, fmt.Errorf("SOURCE_DATE_EPOCH %q is not seconds since 1970: %w", epoch, err)
	}
	return time.Unix(sec, 0).UTC(), nil
}

func git(dir string, args ...string) (string, error) {
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("git %s: %w (set the value with a flag, or SOURCE_DATE_EPOCH, outside a Git checkout)", strings.Join(args, " "), err)
	}
	return strings.TrimSpace(string(out)), nil
}
