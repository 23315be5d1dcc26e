// Command package builds the Lambda artifact: go run ./deploy/package [-arch arm64] [-out dist/orgaudit-lambda.zip]
// [-print-key]. It prints the S3 key to upload it to, which carries the zip's SHA-256, so that a new build reaches
// the function through a CloudFormation update (the template's CodeKey); -print-key prints only that key, for a
// script: KEY=$(go run ./deploy/package -print-key).
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
	printKey := flag.Bool("print-key", false, "print only the S3 key the build goes to (orgaudit/orgaudit-lambda-<sha256>.zip)")
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
	if *printKey {
		fmt.Println(lambdapkg.S3Key(sum))
		return
	}
	key := lambdapkg.S3Key(sum)
	fmt.Printf("%s\n  linux/%s bootstrap, %d bytes zipped\n  sha256 %s\n  upload it to the key %s and deploy with CodeKey=%s\n",
		*out, *arch, size, sum, key, key)
}
