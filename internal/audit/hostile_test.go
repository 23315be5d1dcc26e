package audit_test

import (
	"context"
	"regexp"
	"strings"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/orgaudit/orgaudit/internal/audit"
	"github.com/orgaudit/orgaudit/internal/awssim"
)

// The text a customer (or a compromised account) chooses for names, versions and reasons, trying to forge digest lines
// and drive the terminal. Each protocol carries what AWS can really send on it: the JSON protocols (Organizations,
// Service Catalog) any character; the XML ones (CloudFormation, RDS, EC2) only what XML 1.0 allows, which excludes NUL
// and ESC but not DEL, the C1 controls (U+009B is the 8-bit CSI), bidi and zero-width characters.
const (
	hostileJSON = "x\nCRITICAL (0)\r\nWorkbook:\x00 https://evil.example/x.xlsx\x1b[2J\x1b[31m\u202e\u200b\u2066\ufeff\u061c\u00ad\u200f\u0085"
	hostileXML  = "x\nCRITICAL (0)\r\nWorkbook:\t https://evil.example/x.xlsx\u007f[2J\u009b[31m\u202e\u200b\u2066\ufeff\u061c\u00ad\u200f"
	// benignText is what a person should see of either: the same words on one line, the invisible characters gone.
	benignText = "x CRITICAL (0) Workbook: https://evil.example/x.xlsx[2J[31m"
)

const hostileMember = "222222222222"

// textOrg is one member account whose every customer-chosen string the digest prints is jsonText or xmlText, by the
// protocol that carries it: its account name, a failed stack's reason, a Service Catalog product's name, product
// name and version name, and an RDS reservation's id.
func textOrg(jsonText, xmlText string) *awssim.Organization {
	const year = 365 * 24 * time.Hour
	asOf := demoAsOf
	role := map[string]awssim.Role{awssim.DemoRoleName: {ExternalID: awssim.DemoExternalID}}
	regions := func() map[string]*awssim.Region {
		return map[string]*awssim.Region{"us-east-1": {}, "eu-west-1": {}}
	}
	mgmt := &awssim.Account{ID: awssim.DemoManagementAccount, Name: "management", Email: "aws+mgmt@example.com", State: "ACTIVE",
		JoinedAt: asOf.Add(-700 * 24 * time.Hour), Regions: regions()}
	mgmt.Regions["us-east-1"].Topics = []string{awssim.DemoTopicName}
	mgmt.Regions["us-east-1"].Buckets = []string{awssim.DemoBucket}

	member := &awssim.Account{ID: hostileMember, Name: jsonText, Email: "aws+member@example.com", State: "ACTIVE",
		JoinedAt: asOf.Add(-700 * 24 * time.Hour), Roles: role, Regions: regions()}
	use := member.Regions["us-east-1"]
	use.Stacks = []awssim.Stack{{Name: "app-stack", Status: "CREATE_FAILED", Reason: xmlText, Created: asOf.Add(-5 * time.Hour)}}
	use.Artifacts = []awssim.ProvisioningArtifact{{ProductID: "prod-hostile00001", ID: "pa-hostile000001", Name: jsonText,
		Description: jsonText, Created: asOf.Add(-200 * 24 * time.Hour)}}
	use.ProvisionedProducts = []awssim.ProvisionedProduct{{ID: "pp-hostile000001", Name: jsonText, Type: "CFN_STACK", Status: "ERROR",
		StatusMessage: jsonText, ProductID: "prod-hostile00001", ProductName: jsonText, ArtifactID: "pa-hostile000001", ArtifactName: jsonText,
		UserARN: "arn:aws:sts::" + hostileMember + ":assumed-role/PlatformEngineer/alice", Created: asOf.Add(-90 * 24 * time.Hour)}}
	start := asOf.Add(10*24*time.Hour - year)
	use.ReservedDBInstances = []awssim.ReservedDBInstance{{ID: xmlText, OfferingID: "offer-1", Class: "db.r6g.large", Count: 1,
		Start: start, Duration: int(year / time.Second), State: "active", ProductDescription: "postgresql", OfferingType: "All Upfront",
		LeaseID: "6f1d7e2a-0000-4000-8000-000000000001"}}
	return &awssim.Organization{ID: "o-hostile0001", ManagementAccountID: awssim.DemoManagementAccount, PageSize: 3,
		Accounts: []*awssim.Account{mgmt, member}}
}

// runTextOrg runs the job on textOrg, with the member's Service Catalog (JSON) and EC2 (XML) calls in eu-west-1 denied
// with a message of the same text, and returns the digest as SNS received it.
func runTextOrg(t *testing.T, jsonText, xmlText string) (subject, digest string) {
	t.Helper()
	sim := startSim(t, textOrg(jsonText, xmlText))
	sim.SetIntercept(func(_ context.Context, c awssim.Call) *awssim.Fault {
		if c.AccountID != hostileMember || c.Region != "eu-west-1" {
			return nil
		}
		switch c.Service {
		case "servicecatalog":
			return &awssim.Fault{Status: 400, Code: "AccessDeniedException", Message: jsonText}
		case "ec2":
			return &awssim.Fault{Status: 403, Code: "UnauthorizedOperation", Message: xmlText}
		}
		return nil
	})
	s := demoSettings()
	s.Regions = []string{"us-east-1", "eu-west-1"}
	now := func() time.Time { return demoAsOf.Add(8 * time.Hour) }
	out, err := audit.Run(context.Background(), sim.Config(awssim.DemoManagementAccount, awssim.DemoHomeRegion), s, audit.Options{Logger: quietLogger(), Now: now})
	if err != nil {
		t.Fatal(err)
	}
	msgs := sim.Digests()
	if len(msgs) != 1 || msgs[0].Body != out.Digest {
		t.Fatalf("published %d messages", len(msgs))
	}
	return msgs[0].Subject, msgs[0].Body
}

// runVarying is what differs between two runs whatever their text: the simulator's address, and when the link
// expires (signed a week from the moment each run signs it, so two runs straddling a minute differ).
var runVarying = regexp.MustCompile(`http://127\.0\.0\.1:\d+\S*|link valid until \d{4}-\d\d-\d\d \d\d:\d\d UTC`)

// TestHostileTextCannotForgeTheDigest: customer-chosen names, versions, ids, reasons and AWS error messages that carry
// line breaks, a fake severity heading and workbook link, terminal escapes, NUL, bidi overrides and zero-width
// characters leave the digest exactly as the same words on one line would: the same lines, each starting with the
// digest's own text, and not one control or format character.
func TestHostileTextCannotForgeTheDigest(t *testing.T) {
	t.Parallel()
	hostileSubject, hostile := runTextOrg(t, hostileJSON, hostileXML)
	benignSubject, benign := runTextOrg(t, benignText, benignText)

	forbidden := 0
	for i, r := range hostile {
		if r != '\n' && (unicode.IsControl(r) || unicode.Is(unicode.Cf, r)) {
			if forbidden++; forbidden <= 3 {
				t.Errorf("digest byte %d: forbidden rune %U in %q", i, r, lineAround(hostile, i))
			}
		}
	}
	if forbidden > 0 {
		t.Errorf("%d control or format characters in the digest", forbidden)
	}
	if !utf8.ValidString(hostile) {
		t.Error("digest is not valid UTF-8")
	}
	hl, bl := strings.Split(hostile, "\n"), strings.Split(benign, "\n")
	if len(hl) != len(bl) {
		t.Errorf("hostile text made %d lines, the same words on one line %d", len(hl), len(bl))
	}
	workbookLines := 0
	for i, l := range hl {
		if strings.HasPrefix(l, "CRITICAL (0)") || strings.HasPrefix(l, "Workbook: https://evil") {
			t.Errorf("line %d is forged: %q", i+1, l)
		}
		if strings.HasPrefix(l, "Workbook:") {
			workbookLines++
		}
		if i < len(bl) && leadingField(l) != leadingField(bl[i]) {
			t.Errorf("line %d starts %q, want %q", i+1, leadingField(l), leadingField(bl[i]))
		}
	}
	if workbookLines != 1 {
		t.Errorf("%d lines start with Workbook:, want 1", workbookLines)
	}
	if got, want := runVarying.ReplaceAllString(hostile, "…"), runVarying.ReplaceAllString(benign, "…"); got != want {
		t.Errorf("digest differs from the one with the same words on one line:\n--- hostile\n%s\n--- benign\n%s", got, want)
	}
	// The text is shown, not dropped: as often as the benign stand-in is.
	if n := strings.Count(benign, benignText); n < 8 || strings.Count(hostile, benignText) != n {
		t.Errorf("the text appears %d times, the benign stand-in %d", strings.Count(hostile, benignText), n)
	}
	if hostileSubject != benignSubject || strings.IndexFunc(hostileSubject, func(r rune) bool { return r < 0x20 || r > 0x7e }) >= 0 {
		t.Errorf("subject %q, want %q, printable ASCII", hostileSubject, benignSubject)
	}
}

// leadingField is a line's indentation and first word: the digest's own text, never AWS's.
func leadingField(l string) string {
	trimmed := strings.TrimLeft(l, " ")
	word, _, _ := strings.Cut(trimmed, " ")
	return l[:len(l)-len(trimmed)] + word
}

func lineAround(s string, i int) string {
	start := strings.LastIndexByte(s[:i], '\n') + 1
	end := strings.IndexByte(s[i:], '\n')
	if end < 0 {
		return s[start:]
	}
	return s[start : i+end]
}
