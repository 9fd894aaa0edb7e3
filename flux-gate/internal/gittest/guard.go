package gittest

import (
	"os"
	"path/filepath"
	"testing"
)

// guardHook is the server's update hook: it refuses, and logs to nonff.log, any
// update of a branch that is not a fast-forward (a deletion is allowed: the gate
// deletes stale proposals); it refuses to move or delete a tag that exists (logged
// to tag-rewrites.log); and it refuses every tag while the file refuse-tags exists,
// to stand for a tag push that fails after the branch moved.
const guardHook = `#!/bin/sh
ref=$1 old=$2 new=$3
zero=0000000000000000000000000000000000000000
case "$ref" in
refs/heads/*)
  if [ "$old" != "$zero" ] && [ "$new" != "$zero" ] && ! git merge-base --is-ancestor "$old" "$new"; then
    echo "$ref $old $new" >> nonff.log
    echo "refusing the non-fast-forward update of $ref" >&2
    exit 1
  fi ;;
refs/tags/*)
  if [ -e refuse-tags ]; then
    echo "tag pushes are refused for now" >&2
    exit 1
  fi
  if [ "$old" != "$zero" ]; then
    echo "$ref $old $new" >> tag-rewrites.log
    echo "tag $ref exists" >&2
    exit 1
  fi ;;
esac
exit 0
`

// NewGuardedHTTP starts a smart-HTTP Git server, without auth, that refuses and
// records non-fast-forward branch updates and tag rewrites (see Guard), as a
// protected branch on a forge would.
func NewGuardedHTTP(t testing.TB) *Server {
	t.Helper()
	srv := newServer(t, "", "")
	srv.InstallUpdateHook(guardHook)
	if err := srv.StartHTTP(); err != nil {
		t.Fatalf("start git HTTP server: %v", err)
	}
	t.Cleanup(srv.StopHTTP)
	return srv
}

// NonFastForwards returns what the guard refused of repository name: one line per
// non-fast-forward branch update and per attempt to rewrite a tag; "" when none.
func (s *Server) NonFastForwards(t testing.TB, name string) string {
	t.Helper()
	var out string
	for _, log := range []string{"nonff.log", "tag-rewrites.log"} {
		b, err := os.ReadFile(filepath.Join(s.Root(), name, log))
		if err != nil && !os.IsNotExist(err) {
			t.Fatalf("read %s: %v", log, err)
		}
		out += string(b)
	}
	return out
}

// RefuseTags makes the guard of repository name refuse (on) or accept (off) tag
// pushes.
func (s *Server) RefuseTags(t testing.TB, name string, on bool) {
	t.Helper()
	p := filepath.Join(s.Root(), name, "refuse-tags")
	var err error
	if on {
		err = os.WriteFile(p, nil, 0o644)
	} else {
		err = os.Remove(p)
	}
	if err != nil {
		t.Fatalf("refuse tags %v: %v", on, err)
	}
}
