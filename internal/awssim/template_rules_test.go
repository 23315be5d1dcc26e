package awssim

import (
	"strings"
	"testing"
)

// TestTemplateRules: a rule applies when its RuleCondition holds (or it has none) and fails the deployment with its
// AssertDescription when an assertion is false; a rule the simulator cannot evaluate (a function it does not know, a
// resource named where only parameters may be) is an error, never a pass.
func TestTemplateRules(t *testing.T) {
	t.Parallel()
	const head = "Parameters:\n  Env: {Type: String, Default: prod}\n  Size: {Type: String, Default: small}\n" +
		"Resources:\n  Topic: {Type: AWS::SNS::Topic}\nRules:\n"
	cases := map[string]struct{ rule, want string }{
		"true": {rule: "  R:\n    Assertions:\n      - Assert: !Equals [!Ref Size, small]\n        AssertDescription: small only\n"},
		"false": {rule: "  R:\n    Assertions:\n      - Assert: !Equals [!Ref Size, large]\n        AssertDescription: large only\n",
			want: "rule R: large only"},
		"condition false skips": {rule: "  R:\n    RuleCondition: !Equals [!Ref Env, test]\n    Assertions:\n" +
			"      - Assert: !Equals [!Ref Size, large]\n        AssertDescription: large in test\n"},
		"condition true applies": {rule: "  R:\n    RuleCondition: !Equals [!Ref Env, prod]\n    Assertions:\n" +
			"      - Assert: !Equals [!Ref Size, small]\n      - Assert: !Not [!Equals [!Ref Size, small]]\n        AssertDescription: not small in prod\n",
			want: "rule R: not small in prod"},
		"unknown function": {rule: "  R:\n    Assertions:\n      - Assert: !Contains [[small], !Ref Size]\n", want: "the simulator does not understand !Contains"},
		"a resource":       {rule: "  R:\n    Assertions:\n      - Assert: !Equals [!Ref Topic, x]\n", want: "rules can name only parameters"},
		"no assertions":    {rule: "  R:\n    RuleCondition: !Equals [!Ref Env, prod]\n", want: "rule R has no Assertions"},
	}
	for name, c := range cases {
		_, err := parseTemplate("t.yaml", []byte(head+c.rule), nil, map[string]string{})
		if c.want == "" && err != nil || c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)) {
			t.Errorf("%s: error %v, want %q", name, err, c.want)
		}
	}
}
