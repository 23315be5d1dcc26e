package lambdapkg

import (
	"archive/zip"
	"context"
	"path/filepath"
	"testing"
)

// TestArtifactIsReproducible builds twice into different directories: the zips must be the same bytes.
func TestArtifactIsReproducible(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	var sums []string
	for i := 0; i < 2; i++ {
		dir := t.TempDir()
		bin, err := Build(ctx, "", dir, "arm64")
		if err != nil {
			t.Fatal(err)
		}
		size, sum, err := Zip(bin, filepath.Join(dir, "out", "orgaudit-lambda.zip"))
		if err != nil || size == 0 {
			t.Fatalf("zip: %d bytes, %v", size, err)
		}
		sums = append(sums, sum)
		zr, err := zip.OpenReader(filepath.Join(dir, "out", "orgaudit-lambda.zip"))
		if err != nil {
			t.Fatal(err)
		}
		if len(zr.File) != 1 || zr.File[0].Name != "bootstrap" || zr.File[0].Mode().Perm() != 0o755 {
			t.Errorf("zip holds %v", zr.File)
		}
		zr.Close()
	}
	if sums[0] != sums[1] {
		t.Errorf("two builds differ: %s vs %s", sums[0], sums[1])
	}
}
