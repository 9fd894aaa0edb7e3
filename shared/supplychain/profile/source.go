package profile

import "strings"

// gitSource reads a repository and ref from a git URI as provenance writes them:
// "git+https://github.com/org/repo@refs/heads/main" (the ref after the last '@' of the
// path), or a plain repository URL with the ref given separately. An explicit ref wins
// over one in the URI. The repository is normalised so a policy can name it the way a
// browser shows it: no "git+" prefix, no trailing ".git" or '/'.
func gitSource(uri, ref, from string) source {
	repo, uriRef := splitGitURI(uri)
	if ref == "" {
		ref = uriRef
	}
	return source{repo: normaliseRepo(repo), ref: ref, from: from}
}

// splitGitURI splits "repo@ref". The '@' must come after the host, so the user of
// "git+ssh://git@github.com/org/repo" is not taken for a ref.
func splitGitURI(uri string) (repo, ref string) {
	rest := uri
	if hasPrefixFold(rest, "git+") {
		rest = rest[len("git+"):]
	}
	pathStart := 0
	if i := strings.Index(rest, "://"); i >= 0 {
		pathStart = i + len("://")
	}
	slash := strings.IndexByte(rest[pathStart:], '/')
	if slash < 0 {
		return rest, ""
	}
	pathStart += slash
	at := strings.LastIndexByte(rest[pathStart:], '@')
	if at < 0 {
		return rest, ""
	}
	return rest[:pathStart+at], rest[pathStart+at+1:]
}

func normaliseRepo(repo string) string {
	repo = strings.TrimRight(repo, "/")
	return strings.TrimSuffix(repo, ".git")
}

func hasPrefixFold(s, prefix string) bool {
	return len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix)
}
