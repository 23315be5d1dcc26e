package awssim

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/arn"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/micahhausler/aws-iam-policy/policy"
)

// IAM enforcement: every request is evaluated against the identity policy of the template role whose session signed
// it, as deploy/cloudformation's templates define it, and AssumeRole against the target role's trust policy too.
// Enforcement is off until EnforceTemplates, so a test that is not about IAM need not deploy anything.

// Deployment says how the templates are deployed in the simulated organization.
type Deployment struct {
	// Management and MemberRole are the two templates, as shipped.
	Management, MemberRole []byte
	// Parameters of each stack; those with a default in the template may be left out.
	ManagementParameters, MemberParameters map[string]string
	// Account is the account the management stack is deployed in: the organization's management account (empty) or a
	// delegated administrator.
	Account string
	// Region is where the management stack is deployed; Bucket and TopicARN are what CloudFormation named its report
	// bucket and digest topic, OwnerTopicARN its owners' digest topic (OwnerDigestTopic).
	Region, Bucket, TopicARN, OwnerTopicARN string
	// Aliases evaluate principals the templates do not create as one of the templates' roles: a principal ARN, or
	// the name of a role whose sessions sign, mapped to a template role's name. The moto contract test maps moto's
	// OrganizationAccountAccessRole to the member role this way.
	Aliases map[string]string
}

// DemoAlertBus is the name the management template gives its alert bus with the default FunctionName.
const DemoAlertBus = "orgaudit-alerts"

// DemoKMSKeyARN is the demo's report key: with it the demo and the tests exercise SSE-KMS and the kms: actions.
const DemoKMSKeyARN = "arn:aws:kms:us-east-1:111111111111:key/1f2e3d4c-5b6a-4978-8695-a4b3c2d1e0f9"

// DemoDeployment deploys the templates for a Demo or Generated organization: the demo role and ExternalId, the
// organization's id, and the bucket and topics (the digest's, then the owners') its management account holds.
// kmsKeyARN, when set, is the report bucket's key.
func DemoDeployment(org *Organization, management, memberRole []byte, kmsKeyARN string) Deployment {
	d := Deployment{Management: management, MemberRole: memberRole, Region: DemoHomeRegion,
		ManagementParameters: map[string]string{"CodeBucket": "orgaudit-artifacts", "ScheduleTimezone": "UTC", "OrganizationId": org.ID,
			"MemberRoleName": DemoRoleName, "ExternalId": DemoExternalID, "KmsKeyArn": kmsKeyARN,
			"EmailFrom": DemoEmailFrom, "EmailTo": DemoEmailTo},
		MemberParameters: map[string]string{"ManagementAccountId": org.ManagementAccountID, "OrganizationId": org.ID,
			"RoleName": DemoRoleName, "ExternalId": DemoExternalID},
	}
	if m := org.account(org.ManagementAccountID); m != nil {
		for name, r := range m.Regions {
			if len(r.Buckets) > 0 && len(r.Topics) > 0 {
				d.Region, d.Bucket = name, r.Buckets[0]
				d.TopicARN = fmt.Sprintf("arn:%s:sns:%s:%s:%s", org.partition(), name, m.ID, r.Topics[0])
				// An organization holding one topic deploys the owners' topic as that one: the shape of a job run
				// without an owner topic, whose owners' digests share the digest topic.
				d.OwnerTopicARN = d.TopicARN
				if len(r.Topics) > 1 {
					d.OwnerTopicARN = fmt.Sprintf("arn:%s:sns:%s:%s:%s", org.partition(), name, m.ID, r.Topics[1])
				}
			}
		}
	}
	// Members forward their failed stacks to the management stack's alert bus (named after its default FunctionName).
	d.MemberParameters["AlertBusArn"] = fmt.Sprintf("arn:%s:events:%s:%s:event-bus/%s", org.partition(), d.Region, org.ManagementAccountID, DemoAlertBus)
	return d
}

// TemplateRole is one IAM role a template creates, as deployed.
type TemplateRole struct {
	Template  string // management.yaml or member-role.yaml
	LogicalID string
	Name, ARN string // ARN is empty for the member role, which exists in many accounts
	// Member roles exist in the member accounts whose data lists them; the others in the management account.
	Member     bool
	MaxSession time.Duration
	// Actions are what the role's identity policies allow, by statement.
	Actions []PolicyAction

	trust    *policy.Policy
	policies []*policy.Policy
}

// PolicyAction is one action one statement of a role's identity policy allows.
type PolicyAction struct {
	Template, Role, Sid, Action string
}

// Key names the role in grants and denials: template/LogicalID.
func (r *TemplateRole) Key() string { return r.Template + "/" + r.LogicalID }

// Grant is one (role, action, resource) the simulator allowed.
type Grant struct{ Role, Action, Resource string }

// Denial is one request the simulator refused for want of a permission.
type Denial struct {
	Principal, Role, Action, Resource string
	Code, Message                     string
}

type iamState struct {
	org     *Organization
	roles   map[string]*TemplateRole // by role name
	aliases map[string]string

	mu         sync.Mutex
	granted    map[Grant]bool
	denied     []Denial
	objectKeys map[string]string         // bucket/key → the KMS key an object was written with
	topicKeys  map[string]string         // topic ARN → the KMS key the deployment encrypts it with
	buses      map[string]*policy.Policy // event bus ARN → its resource policy (nil: none), the management template's
	rules      []eventRule               // the management template's rules that target its queues
	deployment Deployment                // what was enforced: the member template's rules are read per account
}

// LoadTemplateRoles resolves every IAM role of the deployment's templates.
func LoadTemplateRoles(org *Organization, d Deployment) ([]*TemplateRole, error) {
	roles, _, err := loadDeployment(org, d)
	return roles, err
}

// loadDeployment resolves every IAM role of the deployment's templates, and the KMS key of each topic the management
// template encrypts (topic ARN → key ARN).
func loadDeployment(org *Organization, d Deployment) ([]*TemplateRole, map[string]string, error) {
	partition := org.partition()
	physical := physicalIDs(org, d)
	var out []*TemplateRole
	topicKeys := map[string]string{}
	for _, tpl := range []struct {
		file   string
		body   []byte
		params map[string]string
		member bool
	}{{"management.yaml", d.Management, d.ManagementParameters, false}, {"member-role.yaml", d.MemberRole, d.MemberParameters, true}} {
		t, err := parseDeployed(org, d, tpl.file, tpl.body, tpl.params, tpl.member)
		if err != nil {
			return nil, nil, err
		}
		t.physical = physical
		ids, err := t.resourcesOfType("AWS::IAM::Role")
		if err != nil {
			return nil, nil, err
		}
		if len(ids) == 0 {
			return nil, nil, fmt.Errorf("%s: no IAM role", tpl.file)
		}
		for _, id := range ids {
			r, err := loadRole(t, id, tpl.member)
			if err != nil {
				return nil, nil, err
			}
			out = append(out, r)
		}
		topics, err := t.resourcesOfType("AWS::SNS::Topic")
		if err != nil {
			return nil, nil, err
		}
		for _, id := range topics {
			key, err := t.property(id, "KmsMasterKeyId")
			if err != nil {
				return nil, nil, err
			}
			if key == nil {
				continue
			}
			topic, _, err := physical(t, id)
			if err != nil {
				return nil, nil, err
			}
			a, _ := arn.Parse(topic)
			topicKeys[topic] = kmsKeyARN(partition, a.Region, a.AccountID, fmt.Sprint(key))
		}
	}
	return out, topicKeys, nil
}

// physicalIDs gives a resource's Ref and attributes from its type and resolved properties, as CloudFormation names
// them in the deployment.
func physicalIDs(org *Organization, d Deployment) func(t *cfnTemplate, id string) (string, map[string]string, error) {
	partition := org.partition()
	return func(t *cfnTemplate, id string) (string, map[string]string, error) {
		typ := yget(t.root, "Resources", id, "Type").Value
		prop := func(key string) (string, error) {
			v, err := t.property(id, key)
			if err != nil {
				return "", err
			}
			s, ok := v.(string)
			if !ok || s == "" {
				return "", fmt.Errorf("%s: %s has no %s the simulator can read", t.name, id, key)
			}
			return s, nil
		}
		account, region := t.pseudo["AWS::AccountId"], t.pseudo["AWS::Region"]
		switch typ {
		case "AWS::IAM::Role":
			name := t.pseudo["AWS::StackName"] + "-" + id
			if yget(t.root, "Resources", id, "Properties", "RoleName") != nil {
				n, err := prop("RoleName")
				if err != nil {
					return "", nil, err
				}
				name = n
			}
			if account == "" {
				return "", nil, fmt.Errorf("%s: the ARN of %s depends on the account it is deployed in", t.name, id)
			}
			return name, map[string]string{"Arn": fmt.Sprintf("arn:%s:iam::%s:role/%s", partition, account, name)}, nil
		case "AWS::S3::Bucket":
			if d.Bucket == "" {
				return "", nil, fmt.Errorf("%s: the deployment names no bucket for %s", t.name, id)
			}
			return d.Bucket, map[string]string{"Arn": "arn:" + partition + ":s3:::" + d.Bucket}, nil
		case "AWS::SNS::Topic":
			topic := d.TopicARN
			if id == "OwnerDigestTopic" {
				topic = d.OwnerTopicARN
			}
			if topic == "" {
				return "", nil, fmt.Errorf("%s: the deployment names no topic for %s", t.name, id)
			}
			return topic, map[string]string{"TopicArn": topic, "TopicName": topic[strings.LastIndex(topic, ":")+1:]}, nil
		case "AWS::Logs::LogGroup":
			name, err := prop("LogGroupName")
			return name, map[string]string{"Arn": fmt.Sprintf("arn:%s:logs:%s:%s:log-group:%s:*", partition, region, account, name)}, err
		case "AWS::Lambda::Function":
			name, err := prop("FunctionName")
			return name, map[string]string{"Arn": fmt.Sprintf("arn:%s:lambda:%s:%s:function:%s", partition, region, account, name)}, err
		case "AWS::KMS::Key":
			// A key the stack creates: its id is AWS's to choose; the simulator's is stable per stack and resource.
			keyID := pseudoUUID(account + "/" + region + "/" + t.pseudo["AWS::StackName"] + "/" + id)
			return keyID, map[string]string{"KeyId": keyID, "Arn": fmt.Sprintf("arn:%s:kms:%s:%s:key/%s", partition, region, account, keyID)}, nil
		case "AWS::StepFunctions::StateMachine":
			// Ref is the state machine's ARN.
			name, err := prop("StateMachineName")
			arn := fmt.Sprintf("arn:%s:states:%s:%s:stateMachine:%s", partition, region, account, name)
			return arn, map[string]string{"Arn": arn, "Name": name}, err
		case "AWS::Events::EventBus":
			// Ref is the bus's name.
			name, err := prop("Name")
			return name, map[string]string{"Name": name, "Arn": fmt.Sprintf("arn:%s:events:%s:%s:event-bus/%s", partition, region, account, name)}, err
		case "AWS::Events::Rule":
			// Ref is the rule's name (CloudFormation generates one from the stack and logical id when none is given).
			name := t.pseudo["AWS::StackName"] + "-" + id
			if yget(t.root, "Resources", id, "Properties", "Name") != nil {
				n, err := prop("Name")
				if err != nil {
					return "", nil, err
				}
				name = n
			}
			if account == "" {
				return "", nil, fmt.Errorf("%s: the ARN of %s depends on the account it is deployed in", t.name, id)
			}
			return name, map[string]string{"Arn": fmt.Sprintf("arn:%s:events:%s:%s:rule/%s", partition, region, account, name)}, nil
		case "AWS::SQS::Queue":
			name := t.pseudo["AWS::StackName"] + "-" + id
			if yget(t.root, "Resources", id, "Properties", "QueueName") != nil {
				n, err := prop("QueueName")
				if err != nil {
					return "", nil, err
				}
				name = n
			}
			url := fmt.Sprintf("https://sqs.%s.amazonaws.com/%s/%s", region, account, name)
			return url, map[string]string{"QueueName": name, "QueueUrl": url, "Arn": fmt.Sprintf("arn:%s:sqs:%s:%s:%s", partition, region, account, name)}, nil
		}
		return "", nil, fmt.Errorf("%s: the simulator knows no physical id for %s (%s)", t.name, id, typ)
	}
}

// parseDeployed parses one of the deployment's templates with its parameters and the pseudo parameters of the stack
// (a member stack's account is each member's, so it has none).
func parseDeployed(org *Organization, d Deployment, file string, body []byte, params map[string]string, member bool) (*cfnTemplate, error) {
	pseudo := map[string]string{"AWS::Partition": org.partition(), "AWS::Region": d.Region, "AWS::URLSuffix": "amazonaws.com", "AWS::StackName": "orgaudit"}
	if !member {
		pseudo["AWS::AccountId"] = d.home(org)
	}
	return parseTemplate(file, body, params, pseudo)
}

func loadRole(t *cfnTemplate, id string, member bool) (*TemplateRole, error) {
	r := &TemplateRole{Template: t.name, LogicalID: id, Member: member, MaxSession: time.Hour}
	name := t.pseudo["AWS::StackName"] + "-" + id
	if v, err := t.property(id, "RoleName"); err != nil {
		return nil, err
	} else if s, ok := v.(string); ok {
		name = s
	}
	r.Name = name
	if !member {
		r.ARN = fmt.Sprintf("arn:%s:iam::%s:role/%s", t.pseudo["AWS::Partition"], t.pseudo["AWS::AccountId"], name)
	}
	if v, err := t.property(id, "MaxSessionDuration"); err != nil {
		return nil, err
	} else if n, ok := v.(int); ok {
		r.MaxSession = time.Duration(n) * time.Second
	}
	trust, err := t.property(id, "AssumeRolePolicyDocument")
	if err != nil {
		return nil, err
	}
	if r.trust, err = parsePolicy(trust); err != nil {
		return nil, fmt.Errorf("%s: %s trust policy: %w", t.name, id, err)
	}
	pols, err := t.property(id, "Policies")
	if err != nil {
		return nil, err
	}
	list, _ := pols.([]any)
	for _, p := range list {
		doc := p.(map[string]any)["PolicyDocument"]
		parsed, err := parsePolicy(doc)
		if err != nil {
			return nil, fmt.Errorf("%s: %s policy: %w", t.name, id, err)
		}
		r.policies = append(r.policies, parsed)
		for _, st := range parsed.Statements.Values() {
			if st.Effect != policy.EffectAllow || st.Action == nil {
				continue
			}
			for _, a := range st.Action.Values() {
				r.Actions = append(r.Actions, PolicyAction{Template: t.name, Role: id, Sid: st.Sid, Action: a})
			}
		}
	}
	return r, nil
}

// EnforceTemplates turns IAM enforcement on with the roles the deployment's templates create. Call it before Start.
// From then on Credentials issues, in the management account, a session of the function's execution role (what
// Lambda hands the function) and elsewhere a session of the member role.
func (s *Server) EnforceTemplates(d Deployment) error {
	roles, topicKeys, err := loadDeployment(s.org, d)
	if err != nil {
		return err
	}
	st := &iamState{org: s.org, roles: map[string]*TemplateRole{}, aliases: d.Aliases, granted: map[Grant]bool{}, objectKeys: map[string]string{},
		topicKeys: topicKeys, deployment: d}
	for _, r := range roles {
		if _, dup := st.roles[r.Name]; dup {
			return fmt.Errorf("two template roles are named %s", r.Name)
		}
		st.roles[r.Name] = r
	}
	var queues map[string]string
	if st.buses, st.rules, queues, err = loadEventRouting(s.org, d); err != nil {
		return err
	}
	s.mu.Lock()
	s.events.queues = map[string][]queueMessage{}
	for u := range queues {
		s.events.queues[u] = nil
	}
	s.mu.Unlock()
	if bus := d.MemberParameters["AlertBusArn"]; bus != "" {
		if _, ok := st.buses[bus]; !ok {
			return fmt.Errorf("member-role.yaml forwards alerts to %s, which the management template does not create", bus)
		}
	}
	s.iam = st
	subs, alarms, err := loadNotifications(s.org, d)
	if err != nil {
		return err
	}
	for _, sub := range subs {
		if err := s.Subscribe(sub); err != nil {
			return fmt.Errorf("management.yaml: %w", err)
		}
	}
	s.mu.Lock()
	s.alarms = alarms
	s.mu.Unlock()
	return nil
}

// TemplateAlarm is one CloudWatch alarm the management template creates, and the topics its actions notify.
type TemplateAlarm struct {
	LogicalID string
	Actions   []string
}

// TemplateAlarms lists the enforced management template's alarms, in template order.
func (s *Server) TemplateAlarms() []TemplateAlarm {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]TemplateAlarm(nil), s.alarms...)
}

// loadNotifications reads the management template's SNS subscriptions and its alarms' actions (AlarmActions,
// OKActions, InsufficientDataActions), as deployed.
func loadNotifications(org *Organization, d Deployment) ([]Subscription, []TemplateAlarm, error) {
	t, err := parseDeployed(org, d, "management.yaml", d.Management, d.ManagementParameters, false)
	if err != nil {
		return nil, nil, err
	}
	t.physical = physicalIDs(org, d)
	str := func(id, key string) (string, error) {
		v, err := t.property(id, key)
		if err != nil || v == nil {
			return "", err
		}
		if s, ok := v.(string); ok {
			return s, nil
		}
		b, err := json.Marshal(v)
		return string(b), err
	}
	ids, err := t.resourcesOfType("AWS::SNS::Subscription")
	if err != nil {
		return nil, nil, err
	}
	var subs []Subscription
	for _, id := range ids {
		var sub Subscription
		for key, dst := range map[string]*string{"TopicArn": &sub.TopicARN, "Protocol": &sub.Protocol, "Endpoint": &sub.Endpoint,
			"FilterPolicy": &sub.FilterPolicy, "FilterPolicyScope": &sub.FilterPolicyScope} {
			if *dst, err = str(id, key); err != nil {
				return nil, nil, err
			}
		}
		subs = append(subs, sub)
	}
	ids, err = t.resourcesOfType("AWS::CloudWatch::Alarm")
	if err != nil {
		return nil, nil, err
	}
	var alarms []TemplateAlarm
	for _, id := range ids {
		a := TemplateAlarm{LogicalID: id}
		for _, key := range []string{"AlarmActions", "OKActions", "InsufficientDataActions"} {
			v, err := t.property(id, key)
			if err != nil {
				return nil, nil, err
			}
			list, _ := v.([]any)
			for _, action := range list {
				s, ok := action.(string)
				if !ok {
					return nil, nil, fmt.Errorf("management.yaml: %s.%s holds %v, not an ARN", id, key, action)
				}
				a.Actions = append(a.Actions, s)
			}
		}
		alarms = append(alarms, a)
	}
	return subs, alarms, nil
}

// TemplateRoles lists the enforced roles; nil when enforcement is off.
func (s *Server) TemplateRoles() []*TemplateRole {
	if s.iam == nil {
		return nil
	}
	var out []*TemplateRole
	for _, r := range s.iam.roles {
		out = append(out, r)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key() < out[j].Key() })
	return out
}

// TemplateRole finds an enforced role by its logical id, e.g. LinkSigningRole.
func (s *Server) TemplateRole(logicalID string) *TemplateRole {
	for _, r := range s.TemplateRoles() {
		if r.LogicalID == logicalID {
			return r
		}
	}
	return nil
}

// Granted lists every (role, action, resource) authorized so far, sorted.
func (s *Server) Granted() []Grant {
	if s.iam == nil {
		return nil
	}
	s.iam.mu.Lock()
	defer s.iam.mu.Unlock()
	var out []Grant
	for g := range s.iam.granted {
		out = append(out, g)
	}
	sort.Slice(out, func(i, j int) bool {
		return out[i].Role+out[i].Action+out[i].Resource < out[j].Role+out[j].Action+out[j].Resource
	})
	return out
}

// Denials lists the requests refused for want of a permission, oldest first.
func (s *Server) Denials() []Denial {
	if s.iam == nil {
		return nil
	}
	s.iam.mu.Lock()
	defer s.iam.mu.Unlock()
	return append([]Denial(nil), s.iam.denied...)
}

// Advance moves the simulator's clock forward: session and presigned-URL expiry are judged by it.
func (s *Server) Advance(d time.Duration) { s.skew.Add(int64(d)) }

func (s *Server) now() time.Time { return time.Now().Add(time.Duration(s.skew.Load())) }

// SessionExpiry is when the session behind an access key ends; false for long-term keys and unknown ones.
func (s *Server) SessionExpiry(accessKeyID string) (time.Time, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p, ok := s.keys[accessKeyID]
	return p.expires, ok && !p.expires.IsZero()
}

// home is the account the management stack is deployed in.
func (d Deployment) home(org *Organization) string {
	if d.Account != "" {
		return d.Account
	}
	return org.ManagementAccountID
}

// jobRole is the template role whose session Credentials issues in account: the execution role in the management
// account, the member role elsewhere.
func (st *iamState) jobRole(account string) *TemplateRole {
	for _, r := range st.roles {
		if home := st.deployment.home(st.org); (account == home && r.LogicalID == "ExecutionRole") || (account != home && r.LogicalID == memberAuditRole) {
			return r
		}
	}
	return nil
}

// issueSession registers a role session and returns its credentials.
func (s *Server) issueSession(accountID, roleName, session string, expires time.Time) aws.Credentials {
	return s.issueRoleSession(accountID, "/", roleName, session, expires)
}

// issueRoleSession is issueSession for a role on a path (the templates' roles are on "/").
func (s *Server) issueRoleSession(accountID, path, roleName, session string, expires time.Time) aws.Credentials {
	p := principal{accountID: accountID, secret: randomHex(20), token: "awssim-session-" + randomHex(24), expires: expires,
		arn:     fmt.Sprintf("arn:%s:sts::%s:assumed-role/%s/%s", s.org.partition(), accountID, roleName, session),
		roleARN: fmt.Sprintf("arn:%s:iam::%s:role%s%s", s.org.partition(), accountID, path, roleName),
		userID:  "AROA" + strings.ToUpper(randomHex(8)) + ":" + session}
	key := "ASIA" + strings.ToUpper(randomHex(8))
	s.mu.Lock()
	s.keys[key] = p
	s.mu.Unlock()
	return aws.Credentials{AccessKeyID: key, SecretAccessKey: p.secret, SessionToken: p.token, Source: "awssim", CanExpire: !expires.IsZero(), Expires: expires}
}

// ConfigAsRole returns an SDK configuration signed as a session of roleARN (arn:aws:iam::<account>:role/<path><name>),
// a role the templates do not create, such as an IAM Identity Center permission set's
// (role/aws-reserved/sso.amazonaws.com/<region>/AWSReservedSSO_<set>_<id>) that a person runs the CLI as. Its identity
// policy is the one of the template role Deployment.Aliases maps its name to; none, and it is allowed nothing.
func (s *Server) ConfigAsRole(roleARN, session, region string) (aws.Config, error) {
	a, err := arn.Parse(roleARN)
	if err != nil || a.Service != "iam" || !strings.HasPrefix(a.Resource, "role/") || s.org.account(a.AccountID) == nil {
		return aws.Config{}, fmt.Errorf("awssim: %q is not a role ARN of the organization", roleARN)
	}
	i := strings.LastIndex(a.Resource, "/")
	creds := s.issueRoleSession(a.AccountID, a.Resource[len("role"):i+1], a.Resource[i+1:], session, time.Time{})
	cfg := s.Config(a.AccountID, region)
	cfg.Credentials = aws.NewCredentialsCache(credentials.StaticCredentialsProvider{Value: creds})
	return cfg, nil
}

// arnInPolicies is p as the aws:PrincipalArn condition key gives it: for a role session the role's ARN (path
// included), not the session's, as IAM's reference of global condition keys says.
func (p principal) arnInPolicies() string {
	if p.roleARN != "" {
		return p.roleARN
	}
	if a, err := arn.Parse(p.arn); err == nil && strings.HasPrefix(a.Resource, "assumed-role/") {
		// A session the resolver vouched for: its role's path is not known, so it is taken as "/".
		return fmt.Sprintf("arn:%s:iam::%s:role/%s", a.Partition, a.AccountID, sessionRole(p.arn))
	}
	return p.arn
}

// sessionRole is the role name of an assumed-role session ARN, or "".
func sessionRole(principalARN string) string {
	a, err := arn.Parse(principalARN)
	if err != nil || !strings.HasPrefix(a.Resource, "assumed-role/") {
		return ""
	}
	return strings.Split(a.Resource, "/")[1]
}

// roleOf is the template role whose policies apply to p, or nil: p is then allowed nothing.
func (st *iamState) roleOf(p principal) *TemplateRole {
	name := sessionRole(p.arn)
	if alias, ok := st.aliases[p.arn]; ok {
		return st.roles[alias]
	}
	if alias, ok := st.aliases[name]; ok && name != "" {
		return st.roles[alias]
	}
	if r := st.roles[name]; r != nil && st.roleIn(r, p.accountID) {
		return r
	}
	return nil
}

// memberAuditRole is the member template's audit role; its other roles (the alert forwarding role) exist wherever the
// StackSet created it, since one stack instance creates them all.
const memberAuditRole = "AuditRole"

// roleIn says whether role r exists in account.
func (st *iamState) roleIn(r *TemplateRole, account string) bool {
	if !r.Member {
		return account == st.deployment.home(st.org)
	}
	a := st.org.account(account)
	if a == nil || account == st.org.ManagementAccountID {
		return false
	}
	if r.LogicalID != memberAuditRole {
		for _, other := range st.roles {
			if other.Member && other.LogicalID == memberAuditRole {
				return st.roleIn(other, account)
			}
		}
		return false
	}
	_, ok := a.Roles[r.Name]
	return ok
}

// assumable finds the template role an AssumeRole names, with its longest session.
func (st *iamState) assumable(account, name string) (*TemplateRole, bool) {
	r := st.roles[name]
	if r == nil || !st.roleIn(r, account) {
		return nil, false
	}
	return r, true
}

// requestContext holds the global condition keys the templates test.
func (st *iamState) requestContext(p principal, resource string) map[string]string {
	ctx := map[string]string{"aws:PrincipalArn": p.arnInPolicies(), "aws:PrincipalAccount": p.accountID}
	if st.org.account(p.accountID) != nil && st.org.ID != "" {
		ctx["aws:PrincipalOrgID"] = st.org.ID
	}
	if a, err := arn.Parse(resource); err == nil && a.AccountID != "" && st.org.account(a.AccountID) != nil && st.org.ID != "" {
		ctx["aws:ResourceOrgID"] = st.org.ID
	}
	return ctx
}

// snsKMS is SNS calling KMS with the publisher's permissions, for a topic encrypted with a KMS key.
const snsKMS = "sns-kms"

// accessDenied is each service's own refusal, as its file registers it from botocore's model (or AWS's common
// AccessDenied where the model names none): awsJson services answer AccessDeniedException, SNS AuthorizationError,
// EC2 UnauthorizedOperation.
func accessDenied(service, msg string) *Fault {
	if service == snsKMS {
		// SNS passes on KMS's refusal of the publisher as its own KMSAccessDenied (HTTP 400), naming KMS's code.
		return &Fault{Status: 400, Code: "KMSAccessDenied", Message: msg + " (Service: AWSKMS; Status Code: 400; Error Code: AccessDeniedException)"}
	}
	if d := protocolOf(service).denied; d.Code != "" {
		return &Fault{Status: d.Status, Code: d.Code, Message: d.Message + msg}
	}
	return &Fault{Status: 403, Code: "AccessDenied", Message: msg}
}

// check evaluates p's identity policy for action on resource, recording the outcome.
func (st *iamState) check(service string, p principal, action, resource string) *Fault {
	return st.checkWith(service, p, action, resource, nil)
}

// checkWith is check with service-specific condition keys beside the global ones (S3's s3:prefix).
func (st *iamState) checkWith(service string, p principal, action, resource string, keys map[string]string) *Fault {
	role := st.roleOf(p)
	var pols []*policy.Policy
	key := ""
	if role != nil {
		pols, key = role.policies, role.Key()
	}
	ctx := st.requestContext(p, resource)
	for k, v := range keys {
		ctx[k] = v
	}
	d := evaluate(pols, evalRequest{action: action, resource: resource, context: ctx})
	if d == allowed {
		st.mu.Lock()
		st.granted[Grant{Role: key, Action: action, Resource: resource}] = true
		st.mu.Unlock()
		return nil
	}
	shown := resource
	if service == "s3" {
		shown = `"` + resource + `"`
	}
	why := "because no identity-based policy allows the " + action + " action"
	if d == explicitDeny {
		why = "with an explicit deny in an identity-based policy"
	}
	f := accessDenied(service, fmt.Sprintf("User: %s is not authorized to perform: %s on resource: %s %s", p.arn, action, shown, why))
	st.mu.Lock()
	st.denied = append(st.denied, Denial{Principal: p.arn, Role: key, Action: action, Resource: resource, Code: f.Code, Message: f.Message})
	st.mu.Unlock()
	return f
}

// allows says whether p's policies allow action on resource, without recording a grant or a denial: for the answers
// a service shapes by what the caller could do (S3's 403 for a missing key), not for the request's own action.
func (st *iamState) allows(p principal, action, resource string) bool {
	role := st.roleOf(p)
	if role == nil {
		return false
	}
	return evaluate(role.policies, evalRequest{action: action, resource: resource, context: st.requestContext(p, resource)}) == allowed
}

// trusts evaluates the trust policy of the template role roleARN names, if it is one; roles only the organization's
// data knows are left to the AssumeRole handler.
func (st *iamState) trusts(p principal, roleARN string, form map[string][]string) *Fault {
	a, err := arn.Parse(roleARN)
	if err != nil {
		return nil
	}
	role, ok := st.assumable(a.AccountID, a.Resource[strings.LastIndex(a.Resource, "/")+1:])
	if !ok {
		return nil
	}
	ctx := st.requestContext(p, roleARN)
	if ext, ok := form["ExternalId"]; ok && len(ext) > 0 {
		ctx["sts:ExternalId"] = ext[0]
	}
	sessionOf := ""
	if name := sessionRole(p.arn); name != "" {
		sessionOf = fmt.Sprintf("arn:%s:iam::%s:role/%s", st.org.partition(), p.accountID, name)
	}
	named := func(entry string) bool {
		return entry == p.arn || (sessionOf != "" && entry == sessionOf) || entry == p.accountID ||
			entry == fmt.Sprintf("arn:%s:iam::%s:root", st.org.partition(), p.accountID)
	}
	if evaluate([]*policy.Policy{role.trust}, evalRequest{action: "sts:AssumeRole", resource: roleARN, principal: named, context: ctx}) == allowed {
		return nil
	}
	msg := fmt.Sprintf("User: %s is not authorized to perform: sts:AssumeRole on resource: %s", p.arn, roleARN)
	st.mu.Lock()
	st.denied = append(st.denied, Denial{Principal: p.arn, Role: role.Key() + " (trust)", Action: "sts:AssumeRole", Resource: roleARN, Code: "AccessDenied", Message: msg})
	st.mu.Unlock()
	return &Fault{Status: 403, Code: "AccessDenied", Message: msg}
}

func anyResource(action string) iamAction {
	return func(*request) (string, string) { return action, "*" }
}

// authorize evaluates a non-S3 request once its caller is known.
func (s *Server) authorize(req *request) *Fault {
	st := s.iam
	if st == nil {
		return nil
	}
	o, ok := operationOf(req.call.Service, req.call.Operation)
	if !ok {
		return &Fault{Status: 500, Code: "InternalFailure", Message: "awssim: no IAM action is mapped for " + req.call.Service + "." + req.call.Operation}
	}
	action, resource := o.iam(req)
	if action == "" {
		return nil
	}
	if f := st.check(req.call.Service, req.caller, action, resource); f != nil {
		return f
	}
	for _, more := range o.also {
		a, res := more(req)
		if f := st.check(req.call.Service, req.caller, a, res); f != nil {
			return f
		}
	}
	// A topic encrypted with a KMS key takes a message only from a publisher allowed to use the key.
	// https://docs.aws.amazon.com/sns/latest/dg/sns-key-management.html
	if key := st.topicKeys[resource]; action == "sns:Publish" && key != "" {
		for _, kms := range []string{"kms:GenerateDataKey", "kms:Decrypt"} {
			if f := st.check(snsKMS, req.caller, kms, key); f != nil {
				return f
			}
		}
	}
	if action == "sts:AssumeRole" {
		return st.trusts(req.caller, resource, req.form)
	}
	return nil
}

// authorizeS3 evaluates an S3 request (a presigned one as its signer), with the KMS permissions SSE-KMS needs.
func (s *Server) authorizeS3(r *http.Request, p principal, region string) *Fault {
	st := s.iam
	if st == nil {
		return nil
	}
	path := strings.TrimPrefix(r.URL.Path, "/")
	bucket, key, _ := strings.Cut(path, "/")
	object := "arn:" + s.org.partition() + ":s3:::" + bucket + "/" + key
	var action, resource string
	var keys map[string]string
	switch {
	case key != "" && r.Method == http.MethodPut:
		action, resource = "s3:PutObject", object
	case key != "" && (r.Method == http.MethodGet || r.Method == http.MethodHead):
		action, resource = "s3:GetObject", object
	case key != "" && r.Method == http.MethodDelete:
		action, resource = "s3:DeleteObject", object
	case key == "" && r.Method == http.MethodGet && r.URL.Query().Has("location"):
		action, resource = "s3:GetBucketLocation", "arn:"+s.org.partition()+":s3:::"+bucket
	case key == "" && (r.Method == http.MethodGet || r.Method == http.MethodHead):
		action, resource = "s3:ListBucket", "arn:"+s.org.partition()+":s3:::"+bucket
		// A listing carries the s3:prefix condition key only when it names a prefix, as S3 sets it; a policy that
		// limits listing to a prefix refuses one without.
		// https://docs.aws.amazon.com/AmazonS3/latest/userguide/amazon-s3-policy-keys.html
		if q := r.URL.Query(); q.Has("prefix") {
			keys = map[string]string{"s3:prefix": q.Get("prefix")}
		}
	default:
		return &Fault{Status: 500, Code: "InternalError", Message: "awssim: no IAM action is mapped for S3 " + r.Method + " " + r.URL.Path}
	}
	if f := st.checkWith("s3", p, action, resource, keys); f != nil {
		return f
	}
	switch action {
	case "s3:PutObject":
		if r.Header.Get("X-Amz-Server-Side-Encryption") != "aws:kms" {
			break
		}
		keyARN := kmsKeyARN(s.org.partition(), region, p.accountID, r.Header.Get("X-Amz-Server-Side-Encryption-Aws-Kms-Key-Id"))
		if f := st.check("s3", p, "kms:GenerateDataKey", keyARN); f != nil {
			return f
		}
		st.mu.Lock()
		st.objectKeys[bucket+"/"+key] = keyARN
		st.mu.Unlock()
	case "s3:GetObject":
		st.mu.Lock()
		keyARN := st.objectKeys[bucket+"/"+key]
		st.mu.Unlock()
		if keyARN != "" {
			return st.check("s3", p, "kms:Decrypt", keyARN)
		}
	}
	return nil
}

// kmsKeyARN is the ARN of the key an SSE-KMS request names by ARN or by id.
func kmsKeyARN(partition, region, account, id string) string {
	if strings.HasPrefix(id, "arn:") {
		return id
	}
	if strings.HasPrefix(id, "alias/") {
		return fmt.Sprintf("arn:%s:kms:%s:%s:%s", partition, region, account, id)
	}
	if id == "" {
		id = "aws/s3" // the AWS managed key
		return fmt.Sprintf("arn:%s:kms:%s:%s:alias/%s", partition, region, account, id)
	}
	return fmt.Sprintf("arn:%s:kms:%s:%s:key/%s", partition, region, account, id)
}

// roleChainingLimit is AWS's cap on a session assumed with another role session's credentials.
// https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles_terms-and-concepts.html#iam-term-role-chaining
const roleChainingLimit = time.Hour

// sessionLimit checks a requested session length against the role's MaxSessionDuration and role chaining, with
// STS's own ValidationError wording.
func (s *Server) sessionLimit(caller principal, account, roleName string, duration time.Duration) *Fault {
	if sessionRole(caller.arn) != "" && duration > roleChainingLimit {
		return &Fault{Status: 400, Code: "ValidationError", Message: "The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining."}
	}
	if s.iam == nil {
		return nil
	}
	if r, ok := s.iam.assumable(account, roleName); ok && duration > r.MaxSession {
		return &Fault{Status: 400, Code: "ValidationError", Message: "The requested DurationSeconds exceeds the MaxSessionDuration set for this role."}
	}
	return nil
}

// ActionsOf lists the distinct actions of a role's grants.
func ActionsOf(grants []Grant, roleKey string) []string {
	var out []string
	for _, g := range grants {
		if g.Role == roleKey {
			out = append(out, g.Action)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}
