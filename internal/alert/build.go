package alert

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/arn"
	cfntypes "github.com/aws/aws-sdk-go-v2/service/cloudformation/types"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/orgaudit/orgaudit/internal/awserr"
	"github.com/orgaudit/orgaudit/internal/checks"
	"github.com/orgaudit/orgaudit/internal/crossaccount"
)

// Actions are what Build calls with the function's own credentials, beyond the audit's: the account's name. The
// product behind a Service Catalog stack is read with the audit role (the check's own actions), or with the
// function's credentials in its own account, which the execution role already grants for the audit.
var Actions = []string{"organizations:DescribeAccount"}

// Text limits, in characters, of what an alert keeps of AWS's text: generous beside the digest's line (the renderer
// cuts again), and a bound on what one event can make a message carry.
const (
	maxNameChars   = 256
	maxReasonChars = 2048
)

// Builder makes an Alert of an Event. Safe for concurrent use. It remembers what it read of each account (its name,
// the audit role's session there) for its life, so a batch of many events of few accounts reads each once: make one
// per invocation, as NewHandler does, so a renamed account or a failed read is not remembered past it.
type Builder struct {
	// Config is the function's own: Organizations is read and the audit role assumed with it.
	Config aws.Config
	// Role is the audit role, as the audit assumes it in member accounts.
	Role crossaccount.Role
	Log  *slog.Logger

	mu   sync.Mutex
	self string // the account the function runs in, once known

	names    memo[string]     // account id: its name, "" when it could not be read
	sessions memo[aws.Config] // partition and account id: the audit role's credentials there
}

// memo is each key's value, made once however many ask for it at once.
type memo[T any] struct {
	mu sync.Mutex
	m  map[string]*memoEntry[T]
}

type memoEntry[T any] struct {
	once sync.Once
	v    T
	err  error
}

func (c *memo[T]) get(key string, fill func() (T, error)) (T, error) {
	c.mu.Lock()
	if c.m == nil {
		c.m = map[string]*memoEntry[T]{}
	}
	e := c.m[key]
	if e == nil {
		e = &memoEntry[T]{}
		c.m[key] = e
	}
	c.mu.Unlock()
	e.once.Do(func() {
		// A fill that panics is its error for this caller and every later one: sync.Once counts it done, and a zero
		// value with no error would pass for a read (an empty aws.Config for a session).
		defer func() {
			if r := recover(); r != nil {
				var zero T
				e.v, e.err = zero, fmt.Errorf("reading %s panicked: %v", key, r)
			}
		}()
		e.v, e.err = fill()
	})
	return e.v, e.err
}

// Build classifies ev by the cloudformation-failed-stacks check's rule and, for a failure, fills the alert. failure
// is false for a status that is not one (a stack's success, a rollback only starting, an instance operation under
// way): nothing is to be sent. The account's name and the Service Catalog product are read on the way; a read that
// fails leaves its part empty, logged (the name) or said in ProductUnread (the product), and the alert still goes
// out. err is only for an event Decode did not make.
func (b *Builder) Build(ctx context.Context, ev Event) (a Alert, failure bool, err error) {
	a = Alert{EventID: ev.ID, EventTime: ev.Time, AccountID: ev.Account, Region: ev.Region}
	var stackID, reason string
	switch {
	case ev.Stack != nil && ev.Instance == nil:
		d := ev.Stack
		sev, stuck, ok := checks.StackFailure(d.Status)
		switch {
		case !slices.Contains(cfntypes.StackStatus("").Values(), cfntypes.StackStatus(d.Status)):
			// A status no document the code knows names: told, never dropped.
			sev, reason = checks.Warning, fmt.Sprintf("status %s not recognised", d.Status)
		case !ok || stuck:
			return Alert{}, false, nil
		}
		a.Kind, a.Severity, a.Status, stackID = KindStack, sev, d.Status, d.StackID
		reason = checks.JoinReason(reason, d.StatusReason)
	case ev.Instance != nil && ev.Stack == nil:
		d := ev.Instance
		sev, ok := checks.StackInstanceFailure(d.Status, d.DetailedStatus)
		switch {
		case !slices.Contains(cfntypes.StackInstanceStatus("").Values(), cfntypes.StackInstanceStatus(d.Status)) ||
			!slices.Contains(cfntypes.StackInstanceDetailedStatus("").Values(), cfntypes.StackInstanceDetailedStatus(d.DetailedStatus)):
			sev, reason = checks.Warning, fmt.Sprintf("status %s (%s) not recognised", d.Status, d.DetailedStatus)
		case !ok:
			return Alert{}, false, nil
		}
		a.Kind, a.Severity, a.Status, a.DetailedStatus, a.StackSetARN, stackID = KindInstance, sev, d.Status, d.DetailedStatus, d.StackSetARN, d.StackID
		reason = checks.JoinReason(reason, d.StatusReason)
	default:
		return Alert{}, false, &InvalidEventError{Reason: "event holds neither a stack's nor a stack instance's detail"}
	}
	a.StackID = stackID
	a.StackName = crossaccount.CleanText(checks.StackNameFromID(stackID), maxNameChars)
	a.Reason = crossaccount.CleanText(reason, maxReasonChars)
	if a.Reason == "" {
		a.Reason = "stack is " + a.Status
	}
	part := "aws"
	if p, err := arn.Parse(stackID); err == nil {
		part = p.Partition
	}
	a.ConsoleURL = checks.StackConsoleURL(part, a.Region, stackID)
	a.AccountName = b.accountName(ctx, a.AccountID)
	if id, ok := checks.ServiceCatalogProductOf(a.StackName); ok {
		a.Product, a.ProductUnread = b.product(ctx, crossaccount.Account{ID: a.AccountID, Partition: part}, a.Region, id)
	}
	return a, true, nil
}

// accountName reads the account's name from Organizations, as the function (the management account or a delegated
// administrator). It is a courtesy of the message: when it cannot be read, the alert goes out by account id.
func (b *Builder) accountName(ctx context.Context, id string) string {
	name, _ := b.names.get(id, func() (string, error) { return b.readAccountName(ctx, id), nil })
	return name
}

func (b *Builder) readAccountName(ctx context.Context, id string) string {
	out, err := organizations.NewFromConfig(b.Config).DescribeAccount(ctx, &organizations.DescribeAccountInput{AccountId: aws.String(id)})
	if err == nil && out.Account != nil {
		return crossaccount.CleanText(aws.ToString(out.Account.Name), maxNameChars)
	}
	if err == nil {
		err = errors.New("DescribeAccount answered no account")
	}
	b.logger().WarnContext(ctx, "account name not read", "account_id", id, "code", awserr.Code(err), "err", awserr.Message(err))
	return ""
}

// product reads the provisioned product behind a Service Catalog stack in its account and region, with the audit
// role as the servicecatalog-products check does. Whatever could not be read is said, never left to look fine.
func (b *Builder) product(ctx context.Context, account crossaccount.Account, region, id string) (*Product, string) {
	self, err := b.selfAccount(ctx)
	if err != nil {
		return nil, "the function's own account is unknown (" + awserr.Code(err) + ": " + awserr.Message(err) + "), so the audit role was not assumed"
	}
	account.Self = account.ID == self
	// The session is the account's, whatever the region: assumed once (through STS in the first stack's region),
	// then used in each stack's.
	cfg, err := b.sessions.get(account.Partition+":"+account.ID, func() (aws.Config, error) {
		base := b.Config.Copy()
		base.Region = region
		return crossaccount.AccountConfig(ctx, base, b.Role, account)
	})
	if err != nil {
		return nil, clean("provisioned product " + id + " not read: " + awserr.Code(err) + ": " + awserr.Message(err))
	}
	cfg = cfg.Copy()
	cfg.Region = region
	info, err := checks.ProvisionedProduct(ctx, cfg, id)
	switch {
	case errors.Is(err, checks.ErrProvisionedProductNotFound):
		return nil, clean("provisioned product " + id + " not found in the account")
	case err != nil:
		return nil, clean("provisioned product " + id + " not read: " + awserr.Code(err) + ": " + awserr.Message(err))
	}
	p := &Product{ID: info.ID, Name: clean(info.Name), Product: clean(info.Product), Version: clean(info.Version)}
	if info.VersionUnread != "" {
		return p, clean("provisioned product " + id + ": " + info.VersionUnread)
	}
	return p, ""
}

// selfAccount is the account the function runs in, asked of STS once: a product there is read with the function's
// own credentials, since no audit role is deployed in it.
func (b *Builder) selfAccount(ctx context.Context) (string, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.self != "" {
		return b.self, nil
	}
	out, err := sts.NewFromConfig(b.Config).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		return "", fmt.Errorf("get caller identity: %w", err)
	}
	b.self = aws.ToString(out.Account)
	return b.self, nil
}

func (b *Builder) logger() *slog.Logger {
	if b.Log != nil {
		return b.Log
	}
	return slog.Default()
}

func clean(s string) string { return crossaccount.CleanText(s, maxReasonChars) }
