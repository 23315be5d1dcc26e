package checks

import (
	"flag"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
)

// exercised records the checks whose table tests passed findings with details through declared.
var exercised sync.Map

// declared fails t for anything in fs its check did not declare (see CheckDeclared). Every check's table test calls
// it with what its run returned, so a detail written under a name no column declares fails that check's own test.
func declared(t *testing.T, c Check, fs []Finding) {
	t.Helper()
	for i := range fs {
		if err := CheckDeclared(c, &fs[i]); err != nil {
			t.Error(err)
		}
		if fs[i].Details.Len() > 0 {
			exercised.Store(c.Name(), true)
		}
	}
}

// TestMain makes calling declared part of a check's table test: run whole, the package fails when a registered check's
// findings never went through it.
func TestMain(m *testing.M) {
	code := m.Run()
	if code == 0 && flag.Lookup("test.run").Value.String() == "" && flag.Lookup("test.skip").Value.String() == "" {
		var missing []string
		for _, c := range All() {
			if _, ok := exercised.Load(c.Name()); !ok {
				missing = append(missing, c.Name())
			}
		}
		if len(missing) > 0 {
			fmt.Fprintf(os.Stderr, "FAIL: the table tests of %s never pass findings with details to declared(t, check, findings)\n", strings.Join(missing, ", "))
			code = 1
		}
	}
	os.Exit(code)
}

func TestRegistryIsConsistent(t *testing.T) {
	t.Parallel()
	seen := map[string]bool{}
	for _, c := range All() {
		if seen[c.Name()] || len(c.Name()) > 31 || c.Title() == "" || len(c.Actions()) == 0 {
			t.Errorf("check %q: duplicate name, name longer than a sheet name, or no title/actions", c.Name())
		}
		seen[c.Name()] = true
		for _, a := range c.Actions() {
			if !strings.Contains(a, ":") {
				t.Errorf("check %s: action %q is not service:Action", c.Name(), a)
			}
		}
		if got, ok := ByName(c.Name()); !ok || got.Name() != c.Name() {
			t.Errorf("ByName(%q) = %v, %v", c.Name(), got, ok)
		}
	}
	if _, ok := ByName("no-such-check"); ok {
		t.Error("ByName found a check that is not registered")
	}
}

// TestLayoutsAreWellFormed: every column has a name, a kind the reports know and at most one role; the roles that
// are amounts are numbers; a commitment check names its kind and says where its renewal is, so the Commitments sheet
// can show it beside the others.
func TestLayoutsAreWellFormed(t *testing.T) {
	t.Parallel()
	kinds := map[ColumnKind]bool{KindText: true, KindDate: true, KindNumber: true, KindLink: true}
	for _, c := range All() {
		l := c.Layout()
		if l.Kind == "" {
			t.Errorf("%s: Layout names no Kind", c.Name())
		}
		names, roles := map[string]bool{}, map[ColumnRole]bool{}
		for _, col := range l.Columns {
			if col.Name == "" || names[col.Name] || !kinds[col.Kind] || col.Width < 0 {
				t.Errorf("%s: column %+v: empty or repeated name, unknown kind, or negative width", c.Name(), col)
			}
			names[col.Name] = true
			if col.Role != "" {
				if roles[col.Role] {
					t.Errorf("%s: two columns play %s", c.Name(), col.Role)
				}
				roles[col.Role] = true
			}
			if (col.Role == RoleCount || col.Role == RoleCommitment) && col.Kind != KindNumber {
				t.Errorf("%s: column %s plays %s but is %s, not a number", c.Name(), col.Name, col.Role, col.Kind)
			}
		}
		if l.Expiry && (!roles[RoleRenewal] || !roles[RoleType]) {
			t.Errorf("%s: a commitment check must declare its %s and %s columns", c.Name(), RoleType, RoleRenewal)
		}
	}
}

// withDetails is a finding of no check holding the details id, value, ...
func withDetails(kv ...string) Finding {
	var f Finding
	for i := 0; i+1 < len(kv); i += 2 {
		f.SetDetail(kv[i], kv[i+1])
	}
	return f
}

// byHeader is f's detail in the column c shows as header; a header c has no column for fails t.
func byHeader(t *testing.T, c Check, f *Finding, header string) string {
	t.Helper()
	col := c.Layout().ByHeader(header)
	if col == nil {
		t.Errorf("%s has no column %q", c.Name(), header)
		return ""
	}
	return f.Detail(col.ID)
}

// TestCheckDeclaredCatchesWhatReportsCannotShow: the registry's guard itself.
func TestCheckDeclaredCatchesWhatReportsCannotShow(t *testing.T) {
	t.Parallel()
	days := 3
	for name, c := range map[string]struct {
		check Check
		f     Finding
		want  string
	}{
		"undeclared detail": {EC2ReservedInstances{}, withDetails("instance_family", "m6i"), `detail "instance_family" is not a declared column`},
		"header for an id":  {EC2ReservedInstances{}, withDetails("Instance type", "m6i"), `detail "Instance type" is not a declared column`},
		"date not RFC 3339": {EC2ReservedInstances{}, withDetails("start", "22/11/2026"), `date column "start"`},
		"number not one":    {EC2ReservedInstances{}, withDetails("count", "four"), `number column "count"`},
		"expiry undeclared": {CloudFormationFailedStacks{}, Finding{DaysLeft: &days}, "an expiry on a check"},
		"other check":       {EC2ReservedInstances{}, Finding{Check: "rds-reserved-instances"}, `finding of check "rds-reserved-instances"`},
	} {
		if c.f.Check == "" {
			c.f.Check = c.check.Name()
		}
		err := CheckDeclared(c.check, &c.f)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want it to say %q", name, err, c.want)
		}
	}
	ok := withDetails("start", "2026-11-22T00:00:00Z", "count", "4", "renewal", "")
	ok.Check = "ec2-reserved-instances"
	if err := CheckDeclared(EC2ReservedInstances{}, &ok); err != nil {
		t.Errorf("a declared finding: %v", err)
	}
}
