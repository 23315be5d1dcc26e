package awssim

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// cfnTemplate resolves the parts of a CloudFormation template the simulator enforces: its IAM roles. It knows exactly
// the intrinsic functions the project's templates use (!Ref, !Sub, !GetAtt, !If, !Not, !Equals, !And, !Or,
// !Condition, !Select, !Split) and the physical ids of the resource types they reference, and fails on anything else, so a template
// change the simulator cannot read is an error rather than a policy silently read wrong. Its Rules are enforced on the
// deployment's parameters, as CloudFormation enforces them.
type cfnTemplate struct {
	name       string
	root       *yaml.Node
	params     map[string]string
	pseudo     map[string]string
	conditions map[string]bool
	// physical gives a resource's Ref and attributes from its type and resolved properties.
	physical func(t *cfnTemplate, logicalID string) (ref string, attrs map[string]string, err error)
}

// noValue is AWS::NoValue: the key or item holding it is dropped.
type noValue struct{}

func parseTemplate(name string, body []byte, params, pseudo map[string]string) (*cfnTemplate, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(body, &doc); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if len(doc.Content) != 1 || doc.Content[0].Kind != yaml.MappingNode {
		return nil, fmt.Errorf("%s: not a template", name)
	}
	t := &cfnTemplate{name: name, root: doc.Content[0], params: map[string]string{}, pseudo: pseudo, conditions: map[string]bool{}}
	declared := yget(t.root, "Parameters")
	for i := 0; declared != nil && i < len(declared.Content); i += 2 {
		key := declared.Content[i].Value
		if v, ok := params[key]; ok {
			t.params[key] = v
		} else if d := yget(declared.Content[i+1], "Default"); d != nil {
			t.params[key] = d.Value
		} else {
			return nil, fmt.Errorf("%s: parameter %s has no default and the deployment gives none", name, key)
		}
	}
	for key := range params {
		if _, ok := t.params[key]; !ok {
			return nil, fmt.Errorf("%s: the deployment gives parameter %s, which the template does not declare", name, key)
		}
	}
	if err := t.checkRules(); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	conds := yget(t.root, "Conditions")
	for i := 0; conds != nil && i < len(conds.Content); i += 2 {
		v, err := t.condition(conds.Content[i+1])
		if err != nil {
			return nil, fmt.Errorf("%s: condition %s: %w", name, conds.Content[i].Value, err)
		}
		t.conditions[conds.Content[i].Value] = v
	}
	return t, nil
}

// checkRules refuses the parameters as CloudFormation does before it creates or updates a stack: a rule whose
// RuleCondition holds (or that has none) and one of whose assertions is false fails the stack operation, saying the
// assertion's AssertDescription. A rule may name only parameters, and the simulator evaluates only the rule
// functions it knows (resolve fails on the others), so a rule it cannot read is an error, not a pass.
// https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/rules-section-structure.html
func (t *cfnTemplate) checkRules() error {
	rules := yget(t.root, "Rules")
	if rules == nil {
		return nil
	}
	saved := t.physical
	t.physical = func(_ *cfnTemplate, id string) (string, map[string]string, error) {
		return "", nil, fmt.Errorf("a rule names resource %s: rules can name only parameters", id)
	}
	defer func() { t.physical = saved }()
	for i := 0; i < len(rules.Content); i += 2 {
		name, rule := rules.Content[i].Value, rules.Content[i+1]
		if c := yget(rule, "RuleCondition"); c != nil {
			applies, err := t.condition(c)
			if err != nil {
				return fmt.Errorf("rule %s: RuleCondition: %w", name, err)
			}
			if !applies {
				continue
			}
		}
		asserts := yget(rule, "Assertions")
		if asserts == nil || asserts.Kind != yaml.SequenceNode || len(asserts.Content) == 0 {
			return fmt.Errorf("rule %s has no Assertions", name)
		}
		for _, a := range asserts.Content {
			cond := yget(a, "Assert")
			if cond == nil {
				return fmt.Errorf("rule %s: an assertion has no Assert", name)
			}
			ok, err := t.condition(cond)
			if err != nil {
				return fmt.Errorf("rule %s: %w", name, err)
			}
			if !ok {
				desc := "an assertion is false"
				if d := yget(a, "AssertDescription"); d != nil {
					desc = d.Value
				}
				return fmt.Errorf("rule %s: %s", name, desc)
			}
		}
	}
	return nil
}

// yget returns the value of key in mapping n, or nil.
func yget(n *yaml.Node, keys ...string) *yaml.Node {
	for _, key := range keys {
		if n == nil || n.Kind != yaml.MappingNode {
			return nil
		}
		var next *yaml.Node
		for i := 0; i < len(n.Content); i += 2 {
			if n.Content[i].Value == key {
				next = n.Content[i+1]
			}
		}
		n = next
	}
	return n
}

// resourcesOfType lists the logical ids of the resources of one type the deployment creates, in template order: a
// resource whose Condition is false is not created.
func (t *cfnTemplate) resourcesOfType(typ string) ([]string, error) {
	var out []string
	res := yget(t.root, "Resources")
	for i := 0; res != nil && i < len(res.Content); i += 2 {
		if ty := yget(res.Content[i+1], "Type"); ty == nil || ty.Value != typ {
			continue
		}
		if c := yget(res.Content[i+1], "Condition"); c != nil {
			created, ok := t.conditions[c.Value]
			if !ok {
				return nil, fmt.Errorf("%s: %s names unknown condition %q", t.name, res.Content[i].Value, c.Value)
			}
			if !created {
				continue
			}
		}
		out = append(out, res.Content[i].Value)
	}
	return out, nil
}

// property resolves one property of a resource; nil when it is absent.
func (t *cfnTemplate) property(logicalID, key string) (any, error) {
	n := yget(t.root, "Resources", logicalID, "Properties", key)
	if n == nil {
		return nil, nil
	}
	v, err := t.resolve(n)
	if err != nil {
		return nil, fmt.Errorf("%s: %s.%s: %w", t.name, logicalID, key, err)
	}
	if _, ok := v.(noValue); ok {
		return nil, nil
	}
	return v, nil
}

func (t *cfnTemplate) condition(n *yaml.Node) (bool, error) {
	v, err := t.resolve(n)
	if err != nil {
		return false, err
	}
	b, ok := v.(bool)
	if !ok {
		return false, fmt.Errorf("%v is not a condition", v)
	}
	return b, nil
}

// resolve turns a node into plain values (string, bool, int, float64, []any, map[string]any), evaluating intrinsics.
func (t *cfnTemplate) resolve(n *yaml.Node) (any, error) {
	switch n.Tag {
	case "!Ref":
		return t.ref(n.Value)
	case "!Sub":
		return t.sub(n)
	case "!GetAtt":
		target := n.Value
		if n.Kind == yaml.SequenceNode && len(n.Content) == 2 {
			target = n.Content[0].Value + "." + n.Content[1].Value
		}
		return t.getAtt(target)
	case "!If":
		if n.Kind != yaml.SequenceNode || len(n.Content) != 3 {
			return nil, fmt.Errorf("line %d: !If takes [condition, then, else]", n.Line)
		}
		c, ok := t.conditions[n.Content[0].Value]
		if !ok {
			return nil, fmt.Errorf("line %d: !If names unknown condition %q", n.Line, n.Content[0].Value)
		}
		if c {
			return t.resolve(n.Content[1])
		}
		return t.resolve(n.Content[2])
	case "!Condition":
		c, ok := t.conditions[n.Value]
		if !ok {
			return nil, fmt.Errorf("line %d: unknown condition %q", n.Line, n.Value)
		}
		return c, nil
	case "!Not", "!Equals", "!And", "!Or":
		return t.logical(n)
	case "!Split", "!Select":
		return t.list(n)
	case "!!str", "!!int", "!!bool", "!!float", "!!null", "!!map", "!!seq":
	default:
		return nil, fmt.Errorf("line %d: the simulator does not understand %s", n.Line, n.Tag)
	}
	switch n.Kind {
	case yaml.ScalarNode:
		switch n.Tag {
		case "!!bool":
			return n.Value == "true", nil
		case "!!int":
			return strconv.Atoi(n.Value)
		case "!!float":
			return strconv.ParseFloat(n.Value, 64)
		case "!!null":
			return nil, nil
		}
		return n.Value, nil
	case yaml.SequenceNode:
		out := []any{}
		for _, c := range n.Content {
			v, err := t.resolve(c)
			if err != nil {
				return nil, err
			}
			if _, drop := v.(noValue); !drop {
				out = append(out, v)
			}
		}
		return out, nil
	case yaml.MappingNode:
		out := map[string]any{}
		for i := 0; i < len(n.Content); i += 2 {
			key := n.Content[i].Value
			if strings.HasPrefix(key, "Fn::") || key == "Ref" {
				return nil, fmt.Errorf("line %d: the simulator reads only the short form of intrinsics, not %s", n.Line, key)
			}
			v, err := t.resolve(n.Content[i+1])
			if err != nil {
				return nil, err
			}
			if _, drop := v.(noValue); !drop {
				out[key] = v
			}
		}
		return out, nil
	}
	return nil, fmt.Errorf("line %d: unexpected YAML node", n.Line)
}

func (t *cfnTemplate) logical(n *yaml.Node) (any, error) {
	if n.Kind != yaml.SequenceNode {
		return nil, fmt.Errorf("line %d: %s takes a list", n.Line, n.Tag)
	}
	var args []any
	for _, c := range n.Content {
		v, err := t.resolve(c)
		if err != nil {
			return nil, err
		}
		args = append(args, v)
	}
	bools := func() ([]bool, error) {
		var out []bool
		for _, a := range args {
			b, ok := a.(bool)
			if !ok {
				return nil, fmt.Errorf("line %d: %s of %v, which is not a condition", n.Line, n.Tag, a)
			}
			out = append(out, b)
		}
		return out, nil
	}
	switch n.Tag {
	case "!Equals":
		if len(args) != 2 {
			return nil, fmt.Errorf("line %d: !Equals takes two values", n.Line)
		}
		return fmt.Sprint(args[0]) == fmt.Sprint(args[1]), nil
	case "!Not":
		b, err := bools()
		if err != nil || len(b) != 1 {
			return nil, fmt.Errorf("line %d: !Not takes one condition (%v)", n.Line, err)
		}
		return !b[0], nil
	}
	b, err := bools()
	if err != nil {
		return nil, err
	}
	all, any := true, false
	for _, x := range b {
		all, any = all && x, any || x
	}
	if n.Tag == "!And" {
		return all, nil
	}
	return any, nil
}

// list evaluates !Split [delimiter, text] and !Select [index, list].
func (t *cfnTemplate) list(n *yaml.Node) (any, error) {
	if n.Kind != yaml.SequenceNode || len(n.Content) != 2 {
		return nil, fmt.Errorf("line %d: %s takes two values", n.Line, n.Tag)
	}
	a, err := t.resolve(n.Content[0])
	if err != nil {
		return nil, err
	}
	b, err := t.resolve(n.Content[1])
	if err != nil {
		return nil, err
	}
	if n.Tag == "!Split" {
		delim, ok1 := a.(string)
		text, ok2 := b.(string)
		if !ok1 || !ok2 || delim == "" {
			return nil, fmt.Errorf("line %d: !Split takes a delimiter and a string", n.Line)
		}
		var out []any
		for _, part := range strings.Split(text, delim) {
			out = append(out, part)
		}
		return out, nil
	}
	index, ok1 := a.(int)
	items, ok2 := b.([]any)
	if !ok1 || !ok2 || index < 0 || index >= len(items) {
		// CloudFormation refuses a template whose !Select reaches past its list.
		return nil, fmt.Errorf("line %d: !Select %v of %v is out of range", n.Line, a, b)
	}
	return items[index], nil
}

func (t *cfnTemplate) ref(name string) (any, error) {
	if name == "AWS::NoValue" {
		return noValue{}, nil
	}
	if v, ok := t.params[name]; ok {
		return v, nil
	}
	if v, ok := t.pseudo[name]; ok {
		return v, nil
	}
	if yget(t.root, "Resources", name) != nil {
		ref, _, err := t.physical(t, name)
		return ref, err
	}
	return nil, fmt.Errorf("!Ref %s names nothing the simulator knows", name)
}

func (t *cfnTemplate) getAtt(target string) (any, error) {
	res, attr, ok := strings.Cut(target, ".")
	if !ok || yget(t.root, "Resources", res) == nil {
		return nil, fmt.Errorf("!GetAtt %s names no resource", target)
	}
	_, attrs, err := t.physical(t, res)
	if err != nil {
		return nil, err
	}
	v, ok := attrs[attr]
	if !ok {
		return nil, fmt.Errorf("!GetAtt %s: the simulator knows no attribute %s of %s", target, attr, res)
	}
	return v, nil
}

var subVariable = regexp.MustCompile(`\$\{([^}]*)\}`)

func (t *cfnTemplate) sub(n *yaml.Node) (any, error) {
	text, vars := n, map[string]any{}
	if n.Kind == yaml.SequenceNode {
		if len(n.Content) != 2 {
			return nil, fmt.Errorf("line %d: !Sub takes a string or [string, variables]", n.Line)
		}
		text = n.Content[0]
		m, err := t.resolve(n.Content[1])
		if err != nil {
			return nil, err
		}
		mm, ok := m.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("line %d: !Sub variables must be a mapping", n.Line)
		}
		vars = mm
	}
	var firstErr error
	out := subVariable.ReplaceAllStringFunc(text.Value, func(m string) string {
		name := m[2 : len(m)-1]
		if strings.HasPrefix(name, "!") {
			return "${" + name[1:] + "}"
		}
		var v any
		var err error
		switch {
		case vars[name] != nil:
			v = vars[name]
		case strings.Contains(name, ".") && !strings.HasPrefix(name, "AWS::"):
			v, err = t.getAtt(name)
		default:
			v, err = t.ref(name)
		}
		if err == nil {
			if _, bad := v.(noValue); bad {
				err = fmt.Errorf("!Sub cannot hold AWS::NoValue")
			}
		}
		if err != nil && firstErr == nil {
			firstErr = fmt.Errorf("line %d: %w", text.Line, err)
		}
		return fmt.Sprint(v)
	})
	return out, firstErr
}

// Without returns a copy of the deployment whose template lacks one action of one statement (the statement itself
// when it held only that action): the mutation a test makes to prove every action is needed.
func (d Deployment) Without(a PolicyAction) (Deployment, error) {
	src := &d.Management
	if a.Template == "member-role.yaml" {
		src = &d.MemberRole
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(*src, &doc); err != nil {
		return d, err
	}
	removed := 0
	var inStatements func(list *yaml.Node)
	inStatements = func(list *yaml.Node) {
		for i := 0; i < len(list.Content); i++ {
			st := list.Content[i]
			if st.Tag == "!If" {
				for _, branch := range st.Content[1:] {
					if branch.Kind == yaml.MappingNode {
						inStatements(&yaml.Node{Kind: yaml.SequenceNode, Content: []*yaml.Node{branch}})
						if sid := yget(branch, "Sid"); sid != nil && sid.Value == a.Sid && yget(branch, "Action") == nil {
							// The branch lost its only action: it allows nothing now.
							*branch = yaml.Node{Kind: yaml.ScalarNode, Tag: "!Ref", Value: "AWS::NoValue"}
						}
					}
				}
				continue
			}
			if sid := yget(st, "Sid"); sid == nil || sid.Value != a.Sid {
				continue
			}
			for k := 0; k < len(st.Content); k += 2 {
				if st.Content[k].Value != "Action" {
					continue
				}
				act := st.Content[k+1]
				if act.Kind == yaml.ScalarNode && act.Value == a.Action {
					st.Content = append(st.Content[:k], st.Content[k+2:]...)
					removed++
					break
				}
				for j, item := range act.Content {
					if item.Value == a.Action {
						act.Content = append(act.Content[:j], act.Content[j+1:]...)
						removed++
						break
					}
				}
				if act.Kind == yaml.SequenceNode && len(act.Content) == 0 {
					st.Content = append(st.Content[:k], st.Content[k+2:]...)
				}
				break
			}
			if yget(st, "Action") == nil && list.Kind == yaml.SequenceNode && len(list.Content) > 0 && list.Content[i] == st && st.Tag != "!If" {
				list.Content = append(list.Content[:i], list.Content[i+1:]...)
				i--
			}
		}
	}
	for _, p := range yget(doc.Content[0], "Resources", a.Role, "Properties", "Policies").Content {
		if sts := yget(p, "PolicyDocument", "Statement"); sts != nil {
			inStatements(sts)
		}
	}
	if removed != 1 {
		return d, fmt.Errorf("%s: %s statement %q: %d occurrences of %s", a.Template, a.Role, a.Sid, removed, a.Action)
	}
	b, err := yaml.Marshal(&doc)
	if err != nil {
		return d, err
	}
	*src = b
	return d, nil
}
