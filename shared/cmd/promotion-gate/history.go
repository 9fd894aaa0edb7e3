package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	gogit "github.com/go-git/go-git/v5"
	gitconfig "github.com/go-git/go-git/v5/config"
	"github.com/go-git/go-git/v5/storage/memory"
	"github.com/spf13/cobra"

	"github.com/promotion-gate/promotion-gate/shared/commitsig"
	"github.com/promotion-gate/promotion-gate/shared/gitrev"
	"github.com/promotion-gate/promotion-gate/shared/record"
)

// historyFlags are the flags of history and history show.
type historyFlags struct {
	repo     string
	env      string
	image    string
	output   string
	trustDir string
	timeout  time.Duration
}

func newHistoryCommand() *cobra.Command {
	var f historyFlags
	cmd := &cobra.Command{
		Use:   "history [--repo CLONE|URL]",
		Short: "List the promotion records (and rollbacks) written as Git tags by flux-gate",
		Long: `history reads the promotion records flux-gate writes as annotated tags — one per promotion
and one per rollback it saw — from a clone (the default: the current directory; run
git fetch --tags first) or from a repository URL this machine can reach (cloned into
memory, tags only). It prints one line per record, oldest first: time, environment, kind,
tag, images and the rollback commit (the branch head the change replaced).

With --trust-dir, each tag's signature is verified against the public keys in that
directory (*.asc, *.gpg: OpenPGP; *.pub, allowed_signers: SSH); a record whose signature
does not verify says so. "history show TAG|COMMIT" prints one record in full.

Exit codes: 0 listed (also when there are no records), 2 the repository or the keys
cannot be read.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			entries, err := f.load(cmd.Context())
			if err != nil {
				return &exitError{code: exitConfig, err: err}
			}
			return writeHistory(cmd.OutOrStdout(), f.filter(entries), f.output)
		},
	}
	show := &cobra.Command{
		Use:   "show TAG|COMMIT",
		Short: "Print one promotion record in full: what, which files, who approved, which commit rolls it back",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			entries, err := f.load(cmd.Context())
			if err != nil {
				return &exitError{code: exitConfig, err: err}
			}
			var found []historyEntry
			for _, e := range entries {
				// A pull request merged with a merge commit is found by that commit too.
				if e.Tag == args[0] || (len(args[0]) >= 7 && (strings.HasPrefix(e.Commit, args[0]) || strings.HasPrefix(e.Record.Landed(), args[0]))) {
					found = append(found, e)
				}
			}
			if len(found) == 0 {
				return &exitError{code: exitConfig, err: fmt.Errorf("no promotion record named %s or on commit %s in %s: list them with promotion-gate history", args[0], args[0], f.where())}
			}
			return showHistory(cmd.OutOrStdout(), found, f.output)
		},
	}
	for _, c := range []*cobra.Command{cmd, show} {
		c.Flags().StringVar(&f.repo, "repo", ".", "a clone of the repository, or its URL")
		c.Flags().StringVarP(&f.output, "output", "o", "text", "output format: text, json or markdown")
		c.Flags().StringVar(&f.trustDir, "trust-dir", "", "verify record tag signatures against the public keys in this directory")
		c.Flags().DurationVar(&f.timeout, "timeout", time.Minute, "how long to wait for a remote repository")
	}
	cmd.Flags().StringVar(&f.env, "env", "", "only records of this environment")
	cmd.Flags().StringVar(&f.image, "image", "", "only records with an image whose reference contains this text (a name, a tag or a digest)")
	cmd.AddCommand(show)
	return cmd
}

// historyEntry is one record tag, with what its signature says.
type historyEntry struct {
	Tag    string `json:"tag"`
	Commit string `json:"commit"`
	// Signature is "verified", "unsigned", "not verified: …" or "" (no --trust-dir).
	Signature string `json:"signature,omitempty"`
	// Signer is the key that verified it.
	Signer string        `json:"signer,omitempty"`
	Record record.Record `json:"record"`
}

func (f historyFlags) where() string {
	if f.repo == "" {
		return "."
	}
	return f.repo
}

// load opens the repository and reads every record tag, oldest first.
func (f historyFlags) load(ctx context.Context) ([]historyEntry, error) {
	switch f.output {
	case "text", "json", "markdown":
	default:
		return nil, fmt.Errorf("unknown output %q: use text, json or markdown", f.output)
	}
	var ring *commitsig.Keyring
	if f.trustDir != "" {
		keys, err := readTrustDir(f.trustDir)
		if err != nil {
			return nil, err
		}
		if ring, err = commitsig.ParseKeys(keys); err != nil {
			return nil, fmt.Errorf("keys in %s: %w", f.trustDir, err)
		}
	}
	repo, err := openHistoryRepo(ctx, f.where(), f.timeout)
	if err != nil {
		return nil, err
	}
	tags, err := gitrev.New(repo).Tags("")
	if err != nil {
		return nil, fmt.Errorf("list tags of %s: %w", f.where(), err)
	}
	var out []historyEntry
	for _, t := range tags {
		rec, err := record.Parse([]byte(t.Message))
		if err != nil {
			continue // not a promotion record
		}
		e := historyEntry{Tag: t.Name, Commit: t.Commit, Record: rec}
		if ring != nil {
			signer, err := ring.VerifyTag(t.Object)
			switch {
			case err == nil:
				e.Signature, e.Signer = "verified", signer
			case errors.Is(err, commitsig.ErrUnsigned):
				e.Signature = "unsigned"
			default:
				e.Signature = "not verified: " + err.Error()
			}
		}
		out = append(out, e)
	}
	sort.SliceStable(out, func(i, j int) bool {
		if !out[i].Record.Time.Equal(out[j].Record.Time) {
			return out[i].Record.Time.Before(out[j].Record.Time)
		}
		return out[i].Tag < out[j].Tag
	})
	return out, nil
}

// openHistoryRepo opens a clone, or fetches the tags of a URL into memory.
func openHistoryRepo(ctx context.Context, where string, timeout time.Duration) (*gogit.Repository, error) {
	if !strings.Contains(where, "://") && !strings.HasPrefix(where, "git@") {
		repo, err := gogit.PlainOpenWithOptions(where, &gogit.PlainOpenOptions{DetectDotGit: true})
		if err != nil {
			return nil, fmt.Errorf("open Git repository %s: %w (give a clone with --repo, or its URL)", where, err)
		}
		return repo, nil
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	repo, err := gogit.Init(memory.NewStorage(), nil)
	if err != nil {
		return nil, err
	}
	remote, err := repo.CreateRemote(&gitconfig.RemoteConfig{Name: "origin", URLs: []string{where}})
	if err != nil {
		return nil, fmt.Errorf("remote %s: %w", where, err)
	}
	err = remote.FetchContext(ctx, &gogit.FetchOptions{
		RefSpecs: []gitconfig.RefSpec{"+refs/tags/*:refs/tags/*"},
		Tags:     gogit.NoTags,
	})
	if err != nil && !errors.Is(err, gogit.NoErrAlreadyUpToDate) {
		return nil, fmt.Errorf("fetch the tags of %s: %w (is the URL reachable, and public or in your Git credentials?)", where, err)
	}
	return repo, nil
}

// readTrustDir reads the public keys of a directory: OpenPGP key rings (*.asc,
// *.gpg) and SSH keys (*.pub, allowed_signers), one signer per file.
func readTrustDir(dir string) ([]commitsig.Key, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("read trust directory %s: %w", dir, err)
	}
	var keys []commitsig.Key
	for _, e := range entries {
		if e.IsDir() {
			continue
		}
		name := e.Name()
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			return nil, fmt.Errorf("read key %s: %w", name, err)
		}
		switch {
		case strings.HasSuffix(name, ".asc"), strings.HasSuffix(name, ".gpg"):
			keys = append(keys, commitsig.Key{Name: name, OpenPGP: b})
		case strings.HasSuffix(name, ".pub"), name == "allowed_signers":
			keys = append(keys, commitsig.Key{Name: name, SSH: b})
		}
	}
	if len(keys) == 0 {
		return nil, fmt.Errorf("trust directory %s holds no public key (*.asc, *.gpg, *.pub or allowed_signers)", dir)
	}
	return keys, nil
}

func (f historyFlags) filter(in []historyEntry) []historyEntry {
	var out []historyEntry
	for _, e := range in {
		if f.env != "" && e.Record.Environment != f.env {
			continue
		}
		if f.image != "" && !strings.Contains(strings.Join(imageRefs(e.Record), " "), f.image) {
			continue
		}
		out = append(out, e)
	}
	return out
}

func imageRefs(r record.Record) []string {
	var out []string
	for _, img := range r.Images {
		out = append(out, img.Reference)
	}
	if r.Rollback != nil {
		for _, d := range r.Rollback.Digests {
			if !strings.Contains(strings.Join(out, " "), d) {
				out = append(out, d)
			}
		}
	}
	return out
}

func writeHistory(w io.Writer, entries []historyEntry, output string) error {
	switch output {
	case "json":
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		if entries == nil {
			entries = []historyEntry{}
		}
		return enc.Encode(entries)
	case "markdown":
		fmt.Fprintln(w, "| time | environment | kind | tag | images | rollback commit | signature |")
		fmt.Fprintln(w, "|---|---|---|---|---|---|---|")
		for _, e := range entries {
			fmt.Fprintf(w, "| %s | %s | %s | `%s` | %s | `%s` | %s |\n", e.Record.Time.Format(time.RFC3339), env(e.Record),
				e.Record.Kind, e.Tag, "`"+strings.Join(imageRefs(e.Record), "`, `")+"`", shortHash(e.Record.RollbackCommit), dash(e.Signature))
		}
		return nil
	}
	if len(entries) == 0 {
		_, err := fmt.Fprintln(w, "no promotion records")
		return err
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "TIME\tENV\tKIND\tTAG\tIMAGES\tROLLBACK COMMIT\tSIGNATURE")
	for _, e := range entries {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", e.Record.Time.Format(time.RFC3339), env(e.Record), e.Record.Kind, e.Tag,
			strings.Join(imageRefs(e.Record), ","), shortHash(e.Record.RollbackCommit), dash(e.Signature))
	}
	return tw.Flush()
}

func showHistory(w io.Writer, entries []historyEntry, output string) error {
	if output == "json" {
		return writeHistory(w, entries, output)
	}
	for i, e := range entries {
		if i > 0 {
			fmt.Fprintln(w)
		}
		fmt.Fprintf(w, "# %s\n\n", e.Tag)
		if e.Signature != "" {
			fmt.Fprintf(w, "Signature: %s", e.Signature)
			if e.Signer != "" {
				fmt.Fprintf(w, " (%s)", e.Signer)
			}
			fmt.Fprint(w, "\n\n")
		}
		fmt.Fprint(w, record.Markdown(e.Record))
	}
	return nil
}

func env(r record.Record) string {
	if r.Environment == "" {
		return "unclassified"
	}
	return r.Environment
}

func shortHash(h string) string {
	if len(h) > 12 {
		return h[:12]
	}
	if h == "" {
		return "-"
	}
	return h
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
