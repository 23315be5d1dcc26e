package report

import (
	"strings"
	"testing"

	"github.com/orgaudit/orgaudit/internal/checks"
)

// TestChatCardCleansTheOwnerLikeAWSText: an owner is an owner tag's value, written by whoever may tag an account;
// on the owner's card (title, description, keywords) it is cleaned as AWS text is: no Slack control sequence, no
// code span it could end, no line break.
func TestChatCardCleansTheOwnerLikeAWSText(t *testing.T) {
	t.Parallel()
	const owner = "ops`<!channel>` *x*\n<https://evil.example|click>"
	f := finding(1, checks.Critical, checks.All()[0].Name())
	f.Owner = owner
	r := ForOwner(Build("run-owner", asOf, []string{"eu-west-1"}, checks.All(), fanOut([]checks.Finding{f}, nil, nil)), owner)
	c := ChatOf(r).Content
	if !strings.Contains(c.Title, "ops") {
		t.Fatalf("the owner's card does not name the owner: %q", c.Title)
	}
	for what, text := range map[string]string{"title": c.Title, "description": c.Description, "keywords": strings.Join(c.Keywords, "|")} {
		for _, line := range strings.Split(text, "\n") {
			if strings.ContainsAny(line, "<>") || strings.Count(line, "`")%2 != 0 {
				t.Errorf("%s: %q", what, line)
			}
		}
	}
	for _, k := range c.Keywords {
		if strings.ContainsAny(k, "`<>\n") {
			t.Errorf("keyword %q", k)
		}
	}
}
