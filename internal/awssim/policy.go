package awssim

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/micahhausler/aws-iam-policy/policy"
)

// The evaluation here is the part of IAM's that the project's policies need: Action/Resource with * and ?
// wildcards, explicit Deny over Allow, default deny, and the condition operators below. A policy that uses anything
// else is rejected when it is loaded, not evaluated wrongly.
// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html

// knownOperators are the condition operators the simulator evaluates.
var knownOperators = map[string]bool{"StringEquals": true, "StringLike": true, "StringNotEquals": true, "Bool": true, "ArnLike": true, "ArnEquals": true}

// parsePolicy reads a resolved policy document with the aws-iam-policy grammar and checks that the simulator can
// evaluate every statement of it.
func parsePolicy(doc any) (*policy.Policy, error) {
	b, err := json.Marshal(doc)
	if err != nil {
		return nil, err
	}
	var p policy.Policy
	if err := json.Unmarshal(b, &p); err != nil {
		return nil, fmt.Errorf("policy %s: %w", b, err)
	}
	if p.Statements == nil {
		return nil, fmt.Errorf("policy %s has no statements", b)
	}
	for _, st := range p.Statements.Values() {
		if st.Effect != policy.EffectAllow && st.Effect != policy.EffectDeny {
			return nil, fmt.Errorf("statement %q: effect %q", st.Sid, st.Effect)
		}
		if st.NotPrincipal != nil {
			return nil, fmt.Errorf("statement %q: the simulator does not evaluate NotPrincipal", st.Sid)
		}
		for op := range st.Condition {
			if !knownOperators[op] {
				return nil, fmt.Errorf("statement %q: the simulator does not evaluate condition operator %s", st.Sid, op)
			}
		}
	}
	return &p, nil
}

// evalRequest is what a statement is matched against.
type evalRequest struct {
	action, resource string
	principal        principalMatch // only for resource-based (trust) policies
	context          map[string]string
}

// principalMatch tells whether a Principal entry names the caller.
type principalMatch func(entry string) bool

// decision is the outcome of evaluating a set of policies.
type decision int

const (
	implicitDeny decision = iota
	allowed
	explicitDeny
)

func evaluate(policies []*policy.Policy, req evalRequest) decision {
	d := implicitDeny
	for _, p := range policies {
		for _, st := range p.Statements.Values() {
			if !statementMatches(st, req) {
				continue
			}
			if st.Effect == policy.EffectDeny {
				return explicitDeny
			}
			d = allowed
		}
	}
	return d
}

func statementMatches(st policy.Statement, req evalRequest) bool {
	if req.principal != nil {
		if st.Principal == nil || !principalNamed(st.Principal, req.principal) {
			return false
		}
	}
	switch {
	case st.Action != nil:
		if !anyMatch(st.Action.Values(), req.action, true) {
			return false
		}
	case st.NotAction != nil:
		if anyMatch(st.NotAction.Values(), req.action, true) {
			return false
		}
	default:
		return false
	}
	switch {
	case st.Resource != nil:
		if !anyMatch(st.Resource.Values(), req.resource, false) {
			return false
		}
	case st.NotResource != nil:
		if anyMatch(st.NotResource.Values(), req.resource, false) {
			return false
		}
	case req.principal == nil:
		return false // an identity policy statement without a resource matches nothing
	}
	return conditionsHold(st.Condition, req.context)
}

func principalNamed(p *policy.Principal, match principalMatch) bool {
	for _, kind := range p.Kinds() {
		switch kind {
		case policy.PrincipalKindAll:
			return true
		case policy.PrincipalKindAWS:
			for _, e := range p.AWS().Values() {
				if e == "*" || match(e) {
					return true
				}
			}
		case policy.PrincipalKindService:
			// A service principal (events.amazonaws.com) is named only by the service itself.
			for _, e := range p.Service().Values() {
				if match(e) {
					return true
				}
			}
		}
	}
	return false
}

func anyMatch(patterns []string, value string, foldCase bool) bool {
	for _, p := range patterns {
		if foldCase {
			if wildcard(strings.ToLower(p), strings.ToLower(value)) {
				return true
			}
		} else if wildcard(p, value) {
			return true
		}
	}
	return false
}

// conditionsHold: every operator's every key must hold; a key the request does not carry fails, as in IAM (no
// ...IfExists operators are supported).
func conditionsHold(cond map[string]map[string]*policy.ConditionValue, ctx map[string]string) bool {
	for op, keys := range cond {
		for key, cv := range keys {
			got, present := lookupFold(ctx, key)
			strs, bools, _ := cv.Values()
			for _, b := range bools {
				strs = append(strs, fmt.Sprint(b))
			}
			holds := false
			switch op {
			case "StringEquals", "Bool":
				for _, s := range strs {
					holds = holds || (present && got == s)
				}
			case "StringLike":
				for _, s := range strs {
					holds = holds || (present && wildcard(s, got))
				}
			case "ArnLike", "ArnEquals":
				for _, s := range strs {
					holds = holds || (present && arnLike(s, got))
				}
			case "StringNotEquals":
				holds = present
				for _, s := range strs {
					holds = holds && got != s
				}
			}
			if !holds {
				return false
			}
		}
	}
	return true
}

// arnLike is the ARN operators' match: case-sensitive, each of the six colon-delimited parts of the ARN matched
// on its own, each with * and ? wildcards, so a * never reaches across a colon into another part. ArnEquals and
// ArnLike behave alike.
// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html#Conditions_ARN
func arnLike(pattern, value string) bool {
	ps, vs := strings.SplitN(pattern, ":", 6), strings.SplitN(value, ":", 6)
	if len(ps) != 6 || len(vs) != 6 {
		return false
	}
	for i := range ps {
		if !wildcard(ps[i], vs[i]) {
			return false
		}
	}
	return true
}

// lookupFold finds a condition key; IAM condition keys are case-insensitive.
func lookupFold(ctx map[string]string, key string) (string, bool) {
	for k, v := range ctx {
		if strings.EqualFold(k, key) {
			return v, true
		}
	}
	return "", false
}

// wildcard matches IAM's patterns: * any run of characters, ? exactly one.
func wildcard(pattern, s string) bool {
	p, v := []rune(pattern), []rune(s)
	pi, vi, star, mark := 0, 0, -1, 0
	for vi < len(v) {
		switch {
		case pi < len(p) && (p[pi] == '?' || p[pi] == v[vi]):
			pi++
			vi++
		case pi < len(p) && p[pi] == '*':
			star, mark = pi, vi
			pi++
		case star >= 0:
			pi = star + 1
			mark++
			vi = mark
		default:
			return false
		}
	}
	for pi < len(p) && p[pi] == '*' {
		pi++
	}
	return pi == len(p)
}
