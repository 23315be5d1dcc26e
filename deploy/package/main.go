// Command package builds the Lambda artifact: go run ./deploy/package [-arch arm64] [-out dist/orgaudit-lambda.zip].
package main

import (
	"context"
	"flag"
	"fmt"
	"os"

	"github.com/orgaudit/orgaudit/internal/lambdapkg"
)

func main() {
	arch := flag.String("arch", "arm64", "GOARCH of the function (the template deploys arm64)")
	out := flag.String("out", "dist/orgaudit-lambda.zip", "zip to write")
	flag.Parse()
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "orgaudit-package")
	if err != nil {
		fmt.Fprintln(os.Stderr, "package:", err)
		os.Exit(1)
	}
	defer os.RemoveAll(dir)
	bin, err := lambdapkg.Build(ctx, "", dir, *arch)
	if err != nil {
		fmt.Fprintln(os.Stderr, "package:", err)
		os.Exit(1)
	}
	size, sum, err := lambdapkg.Zip(bin, *out)
	if err != nil {
		fmt.Fprintln(os.Stderr, "package:", err)
		os.Exit(1)
	}
	fmt.Printf("%s\n  linux/%s bootstrap, %d bytes zipped\n  sha256 %s\n", *out, *arch, size, sum)
}
