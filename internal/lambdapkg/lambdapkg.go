// Package lambdapkg builds the Lambda artifact: cmd/audit compiled as `bootstrap` for provided.al2023 and zipped so
// that the zip's bytes depend only on the source. deploy/package and the runtime test both use it, so the test runs
// the binary that ships. It imports nothing of ours.
package lambdapkg

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// BuildFlags are the go build flags of the artifact: no RPC shim (provided.al2023 speaks the Runtime API), no
// machine paths, no VCS stamp or build id, so two builds of one commit are the same bytes.
var BuildFlags = []string{"-tags", "lambda.norpc", "-trimpath", "-buildvcs=false", "-ldflags", "-s -w -buildid="}

// Build compiles ./cmd/audit of the module in moduleDir as outDir/bootstrap for linux/goarch.
func Build(ctx context.Context, moduleDir, outDir, goarch string) (string, error) {
	if moduleDir == "" {
		dir, err := ModuleDir(ctx)
		if err != nil {
			return "", err
		}
		moduleDir = dir
	}
	out := filepath.Join(outDir, "bootstrap")
	args := append(append([]string{"build"}, BuildFlags...), "-o", out, "./cmd/audit")
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Dir = moduleDir
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH="+goarch, "GOFLAGS=")
	if b, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go %s: %w: %s", strings.Join(args, " "), err, b)
	}
	return out, nil
}

// ModuleDir finds the root of the current module.
func ModuleDir(ctx context.Context) (string, error) {
	b, err := exec.CommandContext(ctx, "go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %w", err)
	}
	gomod := strings.TrimSpace(string(b))
	if gomod == "" || gomod == os.DevNull {
		return "", fmt.Errorf("not inside a Go module")
	}
	return filepath.Dir(gomod), nil
}

// zipEpoch is the earliest time a zip can hold; fixing it keeps the archive's bytes independent of when it was built.
var zipEpoch = time.Date(1980, 1, 1, 0, 0, 0, 0, time.UTC)

// Zip writes bootstrap as the only, executable entry of zipPath and returns the zip's size and SHA-256.
func Zip(bootstrap, zipPath string) (int64, string, error) {
	bin, err := os.ReadFile(bootstrap)
	if err != nil {
		return 0, "", err
	}
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	h := &zip.FileHeader{Name: "bootstrap", Method: zip.Deflate, Modified: zipEpoch}
	h.SetMode(0o755)
	w, err := zw.CreateHeader(h)
	if err != nil {
		return 0, "", err
	}
	if _, err := io.Copy(w, bytes.NewReader(bin)); err != nil {
		return 0, "", err
	}
	if err := zw.Close(); err != nil {
		return 0, "", err
	}
	if err := os.MkdirAll(filepath.Dir(zipPath), 0o755); err != nil {
		return 0, "", err
	}
	if err := os.WriteFile(zipPath, buf.Bytes(), 0o644); err != nil {
		return 0, "", err
	}
	sum := sha256.Sum256(buf.Bytes())
	return int64(buf.Len()), hex.EncodeToString(sum[:]), nil
}

// S3Key is where a build goes in the code bucket: its SHA-256 (hex) in the name, so each build has a key of its own
// and deploying the management stack with it (CodeKey) changes the function's Code, which CloudFormation then
// updates. A new zip at an unchanged key changes no property: CloudFormation answers "No updates are to be
// performed" and the function keeps the old code.
func S3Key(sha256Hex string) string {
	return "orgaudit/orgaudit-lambda-" + sha256Hex + ".zip"
}
