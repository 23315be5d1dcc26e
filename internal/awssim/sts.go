package awssim

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws/arn"
)

// STS speaks the query protocol and is global here (the SDK signs every region's endpoint as sts); it throttles with
// Throttling, HTTP 400, and refuses with AWS's common AccessDenied. GetCallerIdentity needs no permission; AssumeRole
// acts on the role it names.
func init() {
	registerService("sts", protocol{global: true, namespace: "https://sts.amazonaws.com/doc/2011-06-15/"}, Fault{Status: 400, Code: "Throttling", Message: "Rate exceeded"})
	registerOperationOn("sts", "AssumeRole", func(r *request) (string, string) { return "sts:AssumeRole", r.form.Get("RoleArn") }, assumeRole)
	registerOperationOn("sts", "GetCallerIdentity", func(*request) (string, string) { return "", "" }, getCallerIdentity)
	// An AssumeRole reaches into the role's account: its stream, and a fault plan's denial, are that account's.
	registerReach("sts", "AssumeRole", func(r *request) {
		if a, err := arn.Parse(r.form.Get("RoleArn")); err == nil {
			r.call.Target = a.AccountID
		}
	})
}

var sessionName = regexp.MustCompile(`^[\w+=,.@-]{2,64}$`)

type stsCredentials struct {
	AccessKeyId, SecretAccessKey, SessionToken, Expiration string
}

// assumeRole issues session credentials whose access key identifies the target account. A missing role and a wrong
// or missing ExternalId both answer AccessDenied with AWS's wording, so the client cannot tell them apart either.
func assumeRole(s *Server, r *request) (any, *Fault) {
	roleARN := r.form.Get("RoleArn")
	session := r.form.Get("RoleSessionName")
	if !sessionName.MatchString(session) {
		return nil, &Fault{Status: 400, Code: "ValidationError", Message: fmt.Sprintf("1 validation error detected: Value '%s' at 'roleSessionName' failed to satisfy constraint", session)}
	}
	duration := 3600
	if d := r.form.Get("DurationSeconds"); d != "" {
		n, err := strconv.Atoi(d)
		if err != nil || n < 900 || n > 43200 {
			return nil, &Fault{Status: 400, Code: "ValidationError", Message: "DurationSeconds must be between 900 and 43200"}
		}
		duration = n
	}
	parsed, err := arn.Parse(roleARN)
	if err != nil || parsed.Service != "iam" || !strings.HasPrefix(parsed.Resource, "role/") {
		return nil, &Fault{Status: 400, Code: "ValidationError", Message: fmt.Sprintf("%s is invalid", roleARN)}
	}
	roleName := parsed.Resource[strings.LastIndex(parsed.Resource, "/")+1:]
	denied := &Fault{Status: 403, Code: "AccessDenied", Message: fmt.Sprintf("User: %s is not authorized to perform: sts:AssumeRole on resource: %s", r.caller.arn, roleARN)}
	target := s.org.account(parsed.AccountID)
	if target == nil || target.State != "ACTIVE" {
		return nil, denied
	}
	role, ok := target.Roles[roleName]
	if !ok && s.iam != nil {
		// A role the templates create in the account (the link-signing role); its trust policy was evaluated already.
		_, ok = s.iam.assumable(target.ID, roleName)
	}
	if !ok || (role.ExternalID != "" && role.ExternalID != r.form.Get("ExternalId")) {
		return nil, denied
	}
	if f := s.sessionLimit(r.caller, target.ID, roleName, time.Duration(duration)*time.Second); f != nil {
		return nil, f
	}
	expires := r.now.Add(time.Duration(duration) * time.Second).UTC()
	creds := s.issueSession(target.ID, roleName, session, expires)
	s.mu.Lock()
	p := s.keys[creds.AccessKeyID]
	s.mu.Unlock()
	type assumedRoleUser struct{ Arn, AssumedRoleId string }
	return struct {
		Credentials     stsCredentials
		AssumedRoleUser assumedRoleUser
	}{
		Credentials:     stsCredentials{AccessKeyId: creds.AccessKeyID, SecretAccessKey: creds.SecretAccessKey, SessionToken: creds.SessionToken, Expiration: isoTime(expires)},
		AssumedRoleUser: assumedRoleUser{Arn: p.arn, AssumedRoleId: p.userID},
	}, nil
}

func getCallerIdentity(s *Server, r *request) (any, *Fault) {
	return struct{ Arn, UserId, Account string }{r.caller.arn, r.caller.userID, r.caller.accountID}, nil
}
