package config

import (
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"strings"
)

// Portal is the IAM Identity Center access portal that findings' console links go through, so that a link opens the
// finding's own account with the named permission set instead of whatever account the reader's browser is signed in
// to. Both empty (the default) keeps the plain console links; both or neither must be set.
type Portal struct {
	// AccessPortalURL is the portal's start URL, e.g. https://d-1234567890.awsapps.com/start.
	AccessPortalURL string
	// PortalRoleName is the permission set's name, which the shortcut passes as role_name.
	PortalRoleName string
}

var (
	// portalHost is an access portal's host as the IAM Identity Center user guide gives it: <id or alias>.awsapps.com
	// (awsapps.cn in the China regions), or the dual-stack form ssoins-<id>.portal.<region>.app.aws.
	portalHost = regexp.MustCompile(`^([a-z0-9][a-z0-9-]{0,62}\.awsapps\.(com|cn)|ssoins-[0-9a-f]{16}\.portal\.[a-z]{2}(-[a-z]+)+-\d\.app\.aws)$`)
	// permissionSetName is a permission set's name (sso-admin CreatePermissionSet: 1 to 32 of [\w+=,.@-]); the role
	// name it takes in the shortcut.
	permissionSetName = regexp.MustCompile(`^[\w+=,.@-]{1,32}$`)
)

// Validate checks that the portal is given whole or not at all, over https on a portal domain, with a permission
// set's name.
func (p Portal) Validate() error {
	if p.AccessPortalURL == "" && p.PortalRoleName == "" {
		return nil
	}
	var errs []error
	if p.AccessPortalURL == "" || p.PortalRoleName == "" {
		errs = append(errs, errors.New("access portal URL and portal role name go together: give both or neither"))
	}
	if p.AccessPortalURL != "" {
		u, err := url.Parse(p.AccessPortalURL)
		switch {
		case err != nil:
			errs = append(errs, fmt.Errorf("access portal URL %q: %w", p.AccessPortalURL, err))
		case u.Scheme != "https" || u.User != nil || u.Port() != "" || !portalHost.MatchString(strings.ToLower(u.Hostname())) ||
			u.RawQuery != "" || u.Fragment != "" || u.Opaque != "":
			errs = append(errs, fmt.Errorf("access portal URL %q must be https://<your portal>.awsapps.com/start (or awsapps.cn, or ssoins-<id>.portal.<region>.app.aws), without a query or fragment", p.AccessPortalURL))
		}
	}
	if p.PortalRoleName != "" && !permissionSetName.MatchString(p.PortalRoleName) {
		errs = append(errs, fmt.Errorf("portal role name %q must be a permission set's name: 1 to 32 letters, digits or _+=,.@-", p.PortalRoleName))
	}
	return errors.Join(errs...)
}
