package report

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/orgaudit/orgaudit/internal/checks"
	"github.com/orgaudit/orgaudit/internal/crossaccount"
)

const (
	teamA, teamB = "team-a", "team-b"
	acctA, acctB = "111111111111", "222222222222"
)

// moneyScenario: commitments of two owners with hand-set money, every way a figure can read, and a stack that is not
// a commitment. Worked by hand:
//
//	critical ri-a-lapsing   team-a  $511/mo,   all at risk        511
//	critical ri-a-smaller   team-a  $1,022/mo, a renewal of half  511
//	critical os-b-eur       team-b  EUR 812/mo, all at risk       (EUR, in no USD sum)
//	critical stack-a        team-a  no money
//	warning  ri-b-big       team-b  $2,044/mo, all at risk       2044
//	warning  sp-b-renewed   team-b  $730/mo (1 USD/h), renewed      0
//	warning  ri-b-unpriced  team-b  price unknown                 (in no sum)
//	notice   ri-a-later     team-a  $512/mo, all at risk          512 (notice)
//
// The subject's sum: 511 + 511 + 2,044 + 0 = $3,066 (team-a $1,022, team-b $2,044); notices $512 (all team-a's);
// two commitments in no USD sum (both team-b's), EUR 812 apart.
func moneyScenario() *Result {
	usd := func(month, risk float64) *checks.Money {
		return &checks.Money{USDPerMonth: checks.USD(month), USDPerMonthAtRisk: checks.USD(risk),
			Price: &checks.Price{Currency: "USD", PerHour: month / checks.HoursPerMonth, PerMonth: month, PerMonthAtRisk: checks.USD(risk)}}
	}
	var fs []checks.Finding
	add := func(check, account, owner, id string, sev checks.Severity, days int, m *checks.Money) {
		f := finding(len(fs), sev, check)
		f.AccountID, f.AccountName, f.Owner, f.ResourceID, f.Reason, f.Money = account, owner+"-prod", owner, id, "ends soon", m
		end := asOf.AddDate(0, 0, days)
		f.ExpiresAt, f.DaysLeft = &end, &days
		fs = append(fs, f)
	}
	add("ec2-reserved-instances", acctA, teamA, "ri-a-lapsing", checks.Critical, 3, usd(511, 511))
	add("rds-reserved-instances", acctA, teamA, "ri-a-smaller", checks.Critical, 5, usd(1022, 511))
	add("opensearch-reserved-instances", acctB, teamB, "os-b-eur", checks.Critical, 6, &checks.Money{PriceUnknown: "priced in EUR",
		Price: &checks.Price{Currency: "EUR", PerHour: 812.0 / checks.HoursPerMonth, PerMonth: 812, PerMonthAtRisk: checks.USD(812)}})
	add("ec2-reserved-instances", acctB, teamB, "ri-b-big", checks.Warning, 20, usd(2044, 2044))
	add("savings-plans", acctB, teamB, "sp-b-renewed", checks.Warning, 25, usd(730, 0))
	add("rds-reserved-instances", acctB, teamB, "ri-b-unpriced", checks.Warning, 28, &checks.Money{PriceUnknown: "the reservation reports no price"})
	add("ec2-reserved-instances", acctA, teamA, "ri-a-later", checks.Notice, 60, usd(512, 512))
	stack := finding(len(fs), checks.Critical, "cloudformation-failed-stacks")
	stack.AccountID, stack.AccountName, stack.Owner, stack.ResourceID = acctA, "team-a-prod", teamA, "stack-a"
	fs = append(fs, stack)
	checks.SortFindings(fs)
	var cells []crossaccount.Cell
	for _, f := range fs {
		cells = append(cells, crossaccount.Cell{AccountID: f.AccountID, AccountName: f.AccountName, Owner: f.Owner, Region: f.Region, Check: f.Check,
			Outcome: crossaccount.OutcomeFindings, Findings: 1})
	}
	fan := fanOut(fs, cells, nil)
	for i := range fan.Accounts {
		fan.Accounts[i].Owner = map[string]string{acctA: teamA, acctB: teamB}[fan.Accounts[i].ID]
	}
	return Build("run-money", asOf, []string{"eu-west-1"}, checks.All(), fan)
}

// TestMoneyInTheSubjectAndTheDigest: the subject names the critical and warning commitments' sum at risk, the
// digest's header the run's money, and each commitment line its own, all worked by hand (moneyScenario).
func TestMoneyInTheSubjectAndTheDigest(t *testing.T) {
	t.Parallel()
	r := moneyScenario()
	// os-b-eur (critical, EUR) and ri-b-unpriced (warning) are at risk in no USD figure: the sum is a floor, "+".
	if got, want := Subject(r), "orgaudit 2026-11-22: 4 critical, 3 warning, 1 notice | 2/2 accounts | $3,066+/mo at risk"; got != want {
		t.Errorf("subject\n got %q\nwant %q", got, want)
	}
	d := Digest(r, 0)
	lines := strings.Split(d, "\n")
	// The headline comes with the counts it qualifies, before any section.
	if i := slices.Index(lines, "Findings: 4 critical, 3 warning, 1 notice"); i < 0 || lines[i+1] != "Money: $3,066/mo at risk in 4 critical and "+
		"warning commitments; $512/mo more in 1 notice commitment; 2 commitments with no USD figure at risk, in no sum (EUR 812/mo at risk apart)" {
		t.Errorf("no money headline after the counts:\n%s", d)
	}
	for id, want := range map[string]string{
		"ri-a-lapsing":  ": 3 days left; $511/mo, all at risk - ends soon",
		"ri-a-smaller":  ": 5 days left; $1,022/mo, $511 at risk - ends soon",
		"os-b-eur":      ": 6 days left; EUR 812/mo, all at risk, in no USD sum - ends soon",
		"ri-b-big":      ": 20 days left; $2,044/mo, all at risk - ends soon",
		"sp-b-renewed":  ": 25 days left; $730/mo, none at risk - ends soon",
		"ri-b-unpriced": ": 28 days left; price unknown: the reservation reports no price - ends soon",
		"ri-a-later":    ": 60 days left; $512/mo, all at risk - ends soon",
		// Not a commitment: its line is as it always was.
		"stack-a": ": CREATE_FAILED - reason reason",
	} {
		if l := lineWith(lines, " "+id+":"); !strings.HasSuffix(l, want) && !(id == "stack-a" && strings.Contains(l, want) && !strings.Contains(l, "$")) {
			t.Errorf("%s's line %q, want it to end %q", id, l, want)
		}
	}
}

// TestOwnerDigestsSumOnlyTheirAccounts: each owner's subject, text and HTML headline and chat card sum only that owner's
// commitments: team-a $511 + $511 = $1,022 with the $512 notice; team-b $2,044 + $0 with the EUR and the unpriced one.
func TestOwnerDigestsSumOnlyTheirAccounts(t *testing.T) {
	t.Parallel()
	r := moneyScenario()
	for _, c := range []struct{ owner, subject, headline string }{
		{teamA, "orgaudit 2026-11-22 for team-a: 3 critical, 0 warning, 1 notice | 1/1 accounts | $1,022/mo at risk",
			"$1,022/mo at risk in 2 critical and warning commitments; $512/mo more in 1 notice commitment"},
		// team-b's EUR and unpriced commitments are its own: its sum is a floor; team-a's is whole.
		{teamB, "orgaudit 2026-11-22 for team-b: 1 critical, 3 warning, 0 notice | 1/1 accounts | $2,044+/mo at risk",
			"$2,044/mo at risk in 2 critical and warning commitments; 2 commitments with no USD figure at risk, in no sum (EUR 812/mo at risk apart)"},
	} {
		o := ForOwner(r, c.owner)
		if got := Subject(o); got != c.subject {
			t.Errorf("%s's subject\n got %q\nwant %q", c.owner, got, c.subject)
		}
		if d := Digest(o, 0); !strings.Contains(d, "\nMoney: "+c.headline+"\n") {
			t.Errorf("%s's digest lacks the headline %q:\n%s", c.owner, c.headline, d)
		}
		if page, err := HTML(o, MailOptions{}); err != nil || !strings.Contains(page, "<b>Money:</b> "+c.headline+"</div>") {
			t.Errorf("%s's HTML digest lacks the headline %q (%v)", c.owner, c.headline, err)
		}
		card := ChatOf(o).Content
		if !strings.Contains(card.Title, strings.TrimPrefix(c.subject, "orgaudit 2026-11-22 for "+c.owner+":")) ||
			!strings.Contains(card.Description, "*Money:* "+c.headline) {
			t.Errorf("%s's chat card:\n%s\n%s", c.owner, card.Title, card.Description)
		}
	}
	// The owners' sums add up to the organization's.
	a, b := ForOwner(r, teamA).USDPerMonthAtRisk, ForOwner(r, teamB).USDPerMonthAtRisk
	if a.Urgent()+b.Urgent() != r.USDPerMonthAtRisk.Urgent() || a.Total.usd+b.Total.usd != r.USDPerMonthAtRisk.Total.usd {
		t.Errorf("owners %+v + %+v != organization %+v", a, b, r.USDPerMonthAtRisk)
	}
}

// TestNoticeCarriesTheMoney: the notice for automation has the run's usd_per_month_at_risk (an owner's, that
// owner's) and each commitment its money, as the result does; a finding that is no commitment has no money field.
func TestNoticeCarriesTheMoney(t *testing.T) {
	t.Parallel()
	r := moneyScenario()
	for _, c := range []struct {
		r       *Result
		atRisk  string
		present []string
	}{
		// critical 511 + 511 (the EUR one in no sum), warning 2,044 + 0 (the unpriced one in no sum), notice 512.
		{r, `{"critical":1022,"warning":2044,"notice":512,"total":3578,"unknown":2,"other_currencies":[{"currency":"EUR","total":812}]}`,
			[]string{"ri-a-lapsing", "ri-a-smaller", "os-b-eur", "ri-b-big", "sp-b-renewed", "ri-b-unpriced", "ri-a-later", "stack-a"}},
		{ForOwner(r, teamA), `{"critical":1022,"notice":512,"total":1534}`, []string{"ri-a-lapsing", "ri-a-smaller", "ri-a-later", "stack-a"}},
		{ForOwner(r, teamB), `{"critical":null,"warning":2044,"total":2044,"unknown":2,"other_currencies":[{"currency":"EUR","total":812}]}`,
			[]string{"os-b-eur", "ri-b-big", "sp-b-renewed", "ri-b-unpriced"}},
	} {
		b, err := NoticeJSON(c.r)
		if err != nil {
			t.Fatal(err)
		}
		var n struct {
			AtRisk json.RawMessage              `json:"usd_per_month_at_risk"`
			Top    []map[string]json.RawMessage `json:"top_findings"`
		}
		if err := json.Unmarshal(b, &n); err != nil {
			t.Fatal(err)
		}
		if string(n.AtRisk) != c.atRisk {
			t.Errorf("%s: usd_per_month_at_risk %s, want %s", Audience(c.r)+" "+c.r.Owner, n.AtRisk, c.atRisk)
		}
		want := map[string][2]string{"ri-a-lapsing": {"511", "511"}, "ri-a-smaller": {"1022", "511"}, "os-b-eur": {"null", "null"},
			"ri-b-big": {"2044", "2044"}, "sp-b-renewed": {"730", "0"}, "ri-b-unpriced": {"null", "null"}, "ri-a-later": {"512", "512"}}
		var seen []string
		for _, f := range n.Top {
			var id string
			_ = json.Unmarshal(f["resource_id"], &id)
			seen = append(seen, id)
			w, commitment := want[id]
			month, hasMonth := f["usd_per_month"]
			risk, hasRisk := f["usd_per_month_at_risk"]
			switch {
			case !commitment && (hasMonth || hasRisk):
				t.Errorf("%s is no commitment and has money: %s %s", id, month, risk)
			case commitment && (string(month) != w[0] || string(risk) != w[1]):
				t.Errorf("%s: usd_per_month %s, at risk %s; want %s, %s", id, month, risk, w[0], w[1])
			}
		}
		if slices.Sort(seen); !slices.Equal(seen, slices.Sorted(slices.Values(c.present))) {
			t.Errorf("top findings %v, want %v", seen, c.present)
		}
		if c.r == r && !strings.Contains(string(b), `"price_unknown":"the reservation reports no price"`) {
			t.Errorf("the unpriced commitment's reason is not in the notice:\n%s", b)
		}
	}
}

func lineWith(lines []string, s string) string {
	for _, l := range lines {
		if strings.Contains(l, s) {
			return l
		}
	}
	return ""
}

// subjectResult is a result with only what the subject reads: owner, partial, changes, counts, accounts and the sum
// at risk of critical commitments (none when urgent is negative).
func subjectResult(owner string, partial bool, ch *Changes, urgent float64) *Result {
	r := &Result{Facts: Facts{AsOf: asOf, Owner: owner, Partial: partial, Counts: []CheckCounts{{Critical: 4, Warning: 3, Notice: 1}},
		Accounts: AccountCounts{Audited: 2, Total: 2}}}
	if urgent >= 0 {
		sum := KnownSum(urgent)
		r.USDPerMonthAtRisk = &AtRisk{Critical: &sum, Total: sum}
	}
	if ch != nil {
		r.PreviousRunID, r.Changes = "run-0", ch
	}
	return r
}

// TestSubjectMoneyFitsOrGoesWhole: the sum at risk is the last piece of the subject; when the subject would pass 99
// characters the notice and warning counts go before it, and when it does not fit even then it goes whole, the
// subject being then what it is without money (the warning count back). Lengths counted by hand.
func TestSubjectMoneyFitsOrGoesWhole(t *testing.T) {
	t.Parallel()
	const long = "team-payments-and-billing-platform@example.com"
	compared := &Changes{New: 3, Resolved: 1}
	for _, c := range []struct {
		name string
		r    *Result
		want string
	}{
		// 87 characters: everything fits.
		{"organization", subjectResult("", false, nil, 3066),
			"orgaudit 2026-11-22: 4 critical, 3 warning, 1 notice | 2/2 accounts | $3,066/mo at risk"},
		// 104 with the notice count, 94 without.
		{"with a previous run", subjectResult("", false, compared, 3066),
			"orgaudit 2026-11-22: 3 new, 1 fixed | 4 critical, 3 warning | 2/2 accounts | $3,066/mo at risk"},
		// 117, 107 without the notice count, 96 without the warning count: the money stays, the counts go.
		{"a short owner", subjectResult("team-pay", false, compared, 3066),
			"orgaudit 2026-11-22 for team-pay: 3 new, 1 fixed | 4 critical | 2/2 accounts | $3,066/mo at risk"},
		// 122, 112, 101: the money does not fit even alone, so it goes and the warning count comes back (92).
		{"a long owner", subjectResult(long, false, nil, 3066),
			"orgaudit 2026-11-22 for team-payments-and-billing-p...: 4 critical, 3 warning | 2/2 accounts"},
		// PARTIAL and the changes: 91 with the money, once both counts are gone.
		{"partial", subjectResult("", true, compared, 3066),
			"PARTIAL orgaudit 2026-11-22: 3 new, 1 fixed | 4 critical | 2/2 accounts | $3,066/mo at risk"},
		// A long owner on a partial run with changes: no room for the money; the owner gives way to the coverage.
		{"partial, a long owner", subjectResult(long, true, compared, 3066),
			"PARTIAL orgaudit 2026-11-22 for team-payments-and-bi...: 3 new, 1 fixed | 4 critical | 2/2 accounts"},
		// The same without money: the coverage used to be cut to "2/2 a" here, the owner taking its 30 characters.
		{"partial, a long owner, no money", subjectResult(long, true, compared, -1),
			"PARTIAL orgaudit 2026-11-22 for team-payments-and-bi...: 3 new, 1 fixed | 4 critical | 2/2 accounts"},
		// A renewal covers every critical and warning commitment: nothing at risk, nothing said.
		{"nothing at risk", subjectResult("", false, nil, 0), "orgaudit 2026-11-22: 4 critical, 3 warning, 1 notice | 2/2 accounts"},
		{"no commitments", subjectResult("", false, nil, -1), "orgaudit 2026-11-22: 4 critical, 3 warning, 1 notice | 2/2 accounts"},
	} {
		if got := Subject(c.r); got != c.want || len(got) > 99 {
			t.Errorf("%s: subject (%d)\n got %q\nwant %q", c.name, len(got), got, c.want)
		}
	}
	// Absurd counts and a billion dollars: under 100, ASCII, and the figure whole or absent.
	absurd := subjectResult(long, true, &Changes{New: 1 << 62, Resolved: 1 << 62, Escalated: 9, Unverified: 9}, 1_234_567_890)
	absurd.Counts[0] = CheckCounts{Critical: 1 << 62, Warning: 1 << 62, Notice: 1 << 62}
	for _, r := range []*Result{absurd, subjectResult("", false, nil, 1_234_567_890)} {
		s := Subject(r)
		if len(s) > 99 || forbiddenRunes(s) != "" || strings.Contains(s, "$") && !strings.HasSuffix(s, " | $1,234,567,890/mo at risk") {
			t.Errorf("subject (%d) %q", len(s), s)
		}
	}
}

// TestMoneyTextHoldsAWSText: why a price is unknown, why what is at risk is, and the currency are text a check
// words from what AWS said; hostile and long, they stay inside their line in the text digest, their cell in the
// HTML, their code span in the chat card, and their bounds in the notice.
func TestMoneyTextHoldsAWSText(t *testing.T) {
	t.Parallel()
	const evil = "ok\nCRITICAL (0)\nWorkbook: https://evil.example/x.xlsx`<!channel>`</td></tr></table><script>alert(1)</script>" +
		"\x1b]8;;https://evil.example\x07\u202e\u200b\x00\xff "
	long := strings.Repeat(evil, 50)
	unpriced := finding(1, checks.Critical, "ec2-reserved-instances")
	unpriced.ResourceID, unpriced.Money = "ri-unpriced", &checks.Money{PriceUnknown: long}
	unknownRisk := finding(2, checks.Critical, "rds-reserved-instances")
	unknownRisk.ResourceID, unknownRisk.Money = "ri-unknown-risk", &checks.Money{USDPerMonth: checks.USD(511), AtRiskUnknown: long,
		Price: &checks.Price{Currency: "USD", PerMonth: 511}}
	foreign := finding(3, checks.Critical, "opensearch-reserved-instances")
	foreign.ResourceID, foreign.Money = "os-foreign", &checks.Money{PriceUnknown: long,
		Price: &checks.Price{Currency: evil, PerMonth: 812, PerMonthAtRisk: checks.USD(812), Term: long, PaymentOption: long}}
	r := Build("run-1", asOf, []string{"eu-west-1"}, checks.All(), fanOut([]checks.Finding{unpriced, unknownRisk, foreign}, nil, nil))

	d := Digest(r, 0)
	var findingLines []string
	for i, l := range strings.Split(d, "\n") {
		if bad := forbiddenRunes(l); bad != "" {
			t.Errorf("line %d holds %s", i+1, bad)
		}
		if strings.HasPrefix(l, "- ") {
			findingLines = append(findingLines, l)
		} else if strings.HasPrefix(l, "CRITICAL (0)") || strings.HasPrefix(l, "Workbook:") {
			t.Errorf("AWS text forged a line: %q", l)
		}
	}
	if len(findingLines) != 3 {
		t.Fatalf("%d finding lines, want 3:\n%s", len(findingLines), d)
	}
	for _, want := range []string{"ri-unpriced: CREATE_FAILED; price unknown: ok CRITICAL (0) Workbook: https://evil.example/x.xlsx",
		"ri-unknown-risk: CREATE_FAILED; $511/mo, at risk unknown: ok CRITICAL (0) Workbook:",
		"os-foreign: CREATE_FAILED; another currency 812/mo, all at risk, in no USD sum - "} {
		if l := lineWith(findingLines, want[:strings.Index(want, ":")+1]); !strings.Contains(l, want) || len(l) > 1_500 {
			t.Errorf("line (%d bytes) %q\nwant it to hold %q", len(l), l, want)
		}
	}
	if !strings.Contains(d, "(another currency 812/mo at risk apart)") {
		t.Errorf("the headline names AWS's currency text:\n%s", d)
	}

	out, err := HTML(r, MailOptions{})
	if err != nil {
		t.Fatal(err)
	}
	doc := readHTML(t, out)
	for el := range doc.elements {
		if !slices.Contains([]string{"html", "head", "meta", "title", "body", "table", "tbody", "tr", "td", "th", "div", "b", "a", "span"}, el) {
			t.Errorf("the HTML holds a <%s> element: AWS text became markup", el)
		}
	}
	if !slices.ContainsFunc(doc.text, func(s string) bool { return strings.HasPrefix(s, "price unknown: ok CRITICAL (0) Workbook:") }) {
		t.Errorf("the price-unknown reason is not shown as text:\n%.3000s", out)
	}

	for _, l := range strings.Split(ChatOf(r).Content.Description, "\n") {
		if strings.ContainsAny(l, "<>") || strings.Count(l, "`")%2 != 0 || forbiddenRunes(l) != "" {
			t.Errorf("chat line %q", l)
		}
	}

	n := NoticeOf(r)
	for _, f := range n.TopFindings {
		m := f.Money
		if m == nil || len(m.PriceUnknown) > maxReasonBytes || len(m.AtRiskUnknown) > maxReasonBytes ||
			m.Price != nil && (len(m.Price.Currency) > maxNameBytes || len(m.Price.Term) > maxNameBytes || len(m.Price.PaymentOption) > maxNameBytes) {
			t.Errorf("notice finding %s: money %+v", f.ResourceID, m)
		}
	}
	if foreign.Money.PriceUnknown != long || foreign.Money.Price.Term != long {
		t.Error("the notice cut the result's own money")
	}
}

// TestMoneyOnlyWhereAFindingCarriesIt: the HTML digest adds its Per month column to the sections that list a
// commitment with money, each row a cell under it; a run without money reads as before in every output.
func TestMoneyOnlyWhereAFindingCarriesIt(t *testing.T) {
	t.Parallel()
	r := moneyScenario()
	prev := asOf.AddDate(0, 0, -1)
	r.PreviousRunID, r.PreviousRunTime, r.Changes = "run-0", &prev, &Changes{New: 2, Ongoing: len(r.Findings) - 2}
	for i := range r.Findings {
		r.Findings[i].Change = "ongoing"
	}
	r.Findings[0].Change, r.Findings[1].Change = "new", "new"
	withColumn := 0
	for _, s := range r.htmlPage(MailOptions{}).Sections {
		if slices.Contains(s.Columns, moneyColumn) {
			withColumn++
			if i := slices.Index(s.Columns, moneyColumn); s.Columns[i-1] != "State" {
				t.Errorf("section %s: %s is not after State: %v", s.Title, moneyColumn, s.Columns)
			}
		}
		for _, row := range s.Rows {
			if len(row) != len(s.Columns) {
				t.Errorf("section %s: a row of %d cells under %d columns", s.Title, len(row), len(s.Columns))
			}
		}
	}
	// New or worse, and the critical, warning and notice sections still open.
	if withColumn != 4 {
		t.Errorf("%d sections with the %s column, want 4", withColumn, moneyColumn)
	}

	// The same run without money: none of it anywhere.
	for i := range r.Findings {
		r.Findings[i].Money = nil
	}
	r.USDPerMonthAtRisk = SumAtRisk(r.Findings)
	page, err := HTML(r, MailOptions{})
	if err != nil {
		t.Fatal(err)
	}
	notice, err := NoticeJSON(r)
	if err != nil {
		t.Fatal(err)
	}
	card := ChatOf(r).Content
	for what, s := range map[string]string{"subject": Subject(r), "digest": Digest(r, 0), "HTML": page, "notice": string(notice),
		"chat card": card.Title + card.Description} {
		for _, money := range []string{"$", "Money", moneyColumn, "at risk", "usd_per_month", "price unknown", `"price"`} {
			if strings.Contains(s, money) {
				t.Errorf("the %s of a run without money says %q", what, money)
			}
		}
	}
}

// TestOnDemandOnTheLine: with -on-demand, a commitment's line says what its units would cost on demand and how much
// more a month would cost if it lapsed; an unknown rate adds nothing to the line (the JSON and workbook say why).
func TestOnDemandOnTheLine(t *testing.T) {
	quote := func(s string, _ int) string { return s }
	// 3 × m6i.large at $0.107/h on demand: 0.107 × 3 × 730 = 234.33; the reservation costs 135.78, so +98.55.
	f := checks.Finding{Money: &checks.Money{USDPerMonth: checks.USD(135.78), USDPerMonthAtRisk: checks.USD(135.78),
		OnDemand: &checks.OnDemand{USDPerMonthOnDemand: checks.USD(234.33), USDPerMonthIncrease: checks.USD(98.55)}}}
	if got, want := findingMoney(&f, quote), "$136/mo, all at risk; on demand $234/mo, +$99 if it lapses"; got != want {
		t.Errorf("got  %q\nwant %q", got, want)
	}
	f.OnDemand = &checks.OnDemand{OnDemandUnknown: "no product in the AWS price list matches"}
	if got, want := findingMoney(&f, quote), "$136/mo, all at risk"; got != want {
		t.Errorf("unknown rate: got %q, want %q", got, want)
	}
}

// TestHTMLHeadlineNeverShowsAnUnknownSumAsZero: when no critical or warning commitment has a USD figure at risk
// (every price unknown, or in another currency), the HTML digest's headline tiles do not show "$0 a month at risk":
// the run's money line says how many commitments are in no sum instead.
func TestHTMLHeadlineNeverShowsAnUnknownSumAsZero(t *testing.T) {
	t.Parallel()
	r := moneyScenario()
	for i := range r.Findings {
		f := &r.Findings[i]
		if f.Money != nil && (f.Severity == checks.Critical || f.Severity == checks.Warning) {
			f.Money = &checks.Money{PriceUnknown: "AWS reported no FixedPrice"}
		}
	}
	r.USDPerMonthAtRisk = SumAtRisk(r.Findings)
	p := r.htmlPage(MailOptions{})
	for _, s := range p.Stats {
		if strings.Contains(s.Label, "at risk") {
			t.Errorf("headline tile %q %q for critical and warning commitments none of which is priced in USD", s.Value, s.Label)
		}
	}
	if !strings.Contains(p.Money, "with no USD figure at risk") {
		t.Errorf("the money line does not say the commitments are in no sum: %q", p.Money)
	}
}
