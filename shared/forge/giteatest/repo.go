package giteatest

import (
	"context"
	"fmt"

	"code.gitea.io/sdk/gitea"
)

// CreateUser creates a user who is not an administrator, with Password.
func (s *Server) CreateUser(ctx context.Context, name string) error {
	admin, err := s.Client(ctx, Admin)
	if err != nil {
		return err
	}
	no := false
	if _, _, err := admin.AdminCreateUser(gitea.CreateUserOption{Username: name, Email: name + "@example.com",
		Password: Password, MustChangePassword: &no}); err != nil {
		return fmt.Errorf("create user %s: %w", name, err)
	}
	return nil
}

// CreateRepo creates an empty repository owned by the administrator and gives each
// writer write access (push, statuses, pull requests, reviews, merges). It returns
// the repository's Git URL.
func (s *Server) CreateRepo(ctx context.Context, name string, writers ...string) (string, error) {
	admin, err := s.Client(ctx, Admin)
	if err != nil {
		return "", err
	}
	if _, _, err := admin.CreateRepo(gitea.CreateRepoOption{Name: name, Private: true}); err != nil {
		return "", fmt.Errorf("create repository %s: %w", name, err)
	}
	write := gitea.AccessModeWrite
	for _, w := range writers {
		if _, err := admin.AddCollaborator(Admin, name, w, gitea.AddCollaboratorOption{Permission: &write}); err != nil {
			return "", fmt.Errorf("give %s write access to %s: %w", w, name, err)
		}
	}
	return s.GitURL(name), nil
}

// GitURL is the HTTP Git address of the administrator's repository name.
func (s *Server) GitURL(name string) string { return s.URL + "/" + Admin + "/" + name + ".git" }

// Protect protects branch as a production branch is protected: nobody pushes to it,
// a merge needs every status context to be success, and not even an administrator
// can merge past that.
func (s *Server) Protect(ctx context.Context, repo, branch string, contexts ...string) error {
	admin, err := s.Client(ctx, Admin)
	if err != nil {
		return err
	}
	_, _, err = admin.CreateBranchProtection(Admin, repo, gitea.CreateBranchProtectionOption{
		RuleName:                branch,
		EnablePush:              false,
		EnableStatusCheck:       len(contexts) > 0,
		StatusCheckContexts:     contexts,
		BlockAdminMergeOverride: true,
	})
	if err != nil {
		return fmt.Errorf("protect %s of %s: %w", branch, repo, err)
	}
	return nil
}

// Unprotect lifts the protection of branch, as an administrator does for a hotfix (a
// person's revert pushed straight to the branch); Protect puts it back.
func (s *Server) Unprotect(ctx context.Context, repo, branch string) error {
	admin, err := s.Client(ctx, Admin)
	if err != nil {
		return err
	}
	if _, err := admin.DeleteBranchProtection(Admin, repo, branch); err != nil {
		return fmt.Errorf("unprotect %s of %s: %w", branch, repo, err)
	}
	return nil
}

// GitCredentials are user's HTTP basic credentials, as a Flux GitRepository Secret
// holds them.
func GitCredentials(user string) map[string][]byte {
	return map[string][]byte{"username": []byte(user), "password": []byte(Password)}
}

// SecretData is user's GitRepository Secret for this server: the credentials and,
// over TLS, the CA (ca.crt).
func (s *Server) SecretData(user string) map[string][]byte {
	d := GitCredentials(user)
	if s.CA != nil {
		d["ca.crt"] = s.CA
	}
	return d
}
