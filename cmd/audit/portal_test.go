package main

import (
	"bytes"
	"context"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
)

// With an access portal named, the demo's JSON findings link through the portal's shortcut to their own account,
// each destination the console link the check made; without one (TestDemoJSON) they are the plain console links.
func TestDemoLinksThroughTheAccessPortal(t *testing.T) {
	t.Parallel()
	const portal = "https://d-1234567890.awsapps.com/start"
	var stdout, stderr bytes.Buffer
	code := runCLI(context.Background(), []string{"demo", "-json", "-out", filepath.Join(t.TempDir(), "demo.xlsx"), "-as-of", "2026-11-22",
		"-access-portal-url", portal, "-portal-role-name", "AuditReadOnly"}, &stdout, &stderr)
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	r := decodeResult(t, stdout.String())
	linked := 0
	for _, f := range r.Findings {
		if f.ConsoleURL == "" {
			continue
		}
		prefix := portal + "/#/console?account_id=" + f.AccountID + "&role_name=AuditReadOnly&destination="
		dest, ok := strings.CutPrefix(f.ConsoleURL, prefix)
		if !ok {
			t.Errorf("%s %s: console link %q, want the portal's shortcut to its account", f.Check, f.ResourceID, f.ConsoleURL)
			continue
		}
		d, err := url.QueryUnescape(dest)
		if err != nil || !strings.HasPrefix(d, "https://") || !strings.Contains(d, "console.aws.amazon.com/") {
			t.Errorf("%s %s: destination %q (%v), want the check's console link", f.Check, f.ResourceID, d, err)
		}
		linked++
	}
	if linked == 0 {
		t.Fatal("no finding has a console link: the demo's checks make them")
	}
	if code := runCLI(context.Background(), []string{"demo", "-access-portal-url", portal}, &stdout, &stderr); code != exitUsage ||
		!strings.Contains(stderr.String(), "give both or neither") {
		t.Errorf("the portal without a role: exit %d, %s", code, stderr.String())
	}
}
