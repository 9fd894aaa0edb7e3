package imageref_test

import (
	"fmt"

	"github.com/promotion-gate/promotion-gate/shared/imageref"
)

func ExampleParse() {
	for _, s := range []string{
		"nginx",
		"localhost:5000/app:1",
		"ghcr.io/example/app:1.8.3@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
	} {
		r, err := imageref.Parse(s)
		if err != nil {
			fmt.Println(err)
			continue
		}
		fmt.Println(r.String(), r.Pinned(), r.Tag, r.Names())
	}
	_, err := imageref.Parse("ghcr.io/Example/app:1")
	fmt.Println(err != nil)
	// Output:
	// index.docker.io/library/nginx:latest false latest [index.docker.io/library/nginx docker.io/library/nginx nginx]
	// localhost:5000/app:1 false 1 [localhost:5000/app]
	// ghcr.io/example/app:1.8.3@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef true 1.8.3 [ghcr.io/example/app]
	// true
}
