package audit

import (
	"net/url"
	"regexp"
	"strings"

	"github.com/orgaudit/orgaudit/internal/checks"
	"github.com/orgaudit/orgaudit/internal/crossaccount"
)

var accountID = regexp.MustCompile(`^\d{12}$`)

// linkViaPortal sends each finding's console link through the IAM Identity Center access portal when the settings
// name one (AccessPortalURL, PortalRoleName), so that it opens the finding's own account with that permission set.
// Finish calls it once, after the audit and before Recall, so every output (JSON, workbook, digest, history) carries
// the same link.
func (j *Job) linkViaPortal(fan *crossaccount.Result) {
	if j.s.AccessPortalURL == "" || j.s.PortalRoleName == "" {
		return
	}
	partitions := make(map[string]string, len(fan.Accounts))
	for _, a := range fan.Accounts {
		partitions[a.ID] = a.Partition
	}
	for i := range fan.Findings {
		f := &fan.Findings[i]
		f.ConsoleURL = portalLink(j.s.AccessPortalURL, j.s.PortalRoleName, partitions[f.AccountID], f.AccountID, f.ConsoleURL)
	}
}

// portalLink returns the access portal's shortcut to console in account with role, in the form the IAM Identity
// Center user guide gives for shortcut links ("Create shortcut links to AWS Management Console destinations",
// https://docs.aws.amazon.com/singlesignon/latest/userguide/createshortcutlink.html):
//
//	<portal URL>/#/console?account_id=<account>&role_name=<permission set>&destination=<URL-encoded console URL>
//
// Only an https link to the account's own partition's console is rewritten; anything else (empty, another host, a
// malformed account) is returned as it came, so a check's odd link never becomes a portal link to somewhere else.
// Every value is query-escaped, so no text of a finding can add a parameter or leave the fragment.
func portalLink(portal, role, partition, account, console string) string {
	if console == "" || !accountID.MatchString(account) {
		return console
	}
	u, err := url.Parse(console)
	if err != nil || u.Scheme != "https" || u.User != nil || u.Port() != "" {
		return console
	}
	host, want := strings.ToLower(u.Hostname()), checks.ConsoleHost(partition)
	if host != want && !strings.HasSuffix(host, "."+want) {
		return console
	}
	return strings.TrimRight(portal, "/") + "/#/console?account_id=" + url.QueryEscape(account) +
		"&role_name=" + url.QueryEscape(role) + "&destination=" + url.QueryEscape(console)
}
