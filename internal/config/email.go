package config

import (
	"errors"
	"fmt"
	"net/mail"
	"regexp"

	"github.com/orgaudit/orgaudit/internal/delivery"
)

// Email turns on email through SES: the organization's email, with the workbook, goes from EmailFrom (an address,
// optionally with a display name, of a verified SES identity) to EmailTo, and each owner whose owner value is an
// email address gets an email of their own. Email is off unless both are set.
type Email struct {
	EmailFrom string
	EmailTo   []string
	// EmailRegion is the SES region the identity is verified in; empty is the SDK configuration's region.
	EmailRegion string
}

// EmailOn says the run emails its digest through SES.
func (e Email) EmailOn() bool { return e.EmailFrom != "" && len(e.EmailTo) > 0 }

// emailAddress is an address SES sends to or from: ASCII only (SES does not support SMTPUTF8; a domain beyond ASCII
// is written in Punycode), a local part and a domain of dot-separated labels.
var emailAddress = regexp.MustCompile("^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]{1,64}@[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$")

// IsEmailAddress says whether s is one plain email address SES can send to: an owner's value that is one gets an
// email of its own.
func IsEmailAddress(s string) bool { return len(s) <= 254 && emailAddress.MatchString(s) }

// ParseEmailFrom reads the sender: an address, or a display name and an address ("orgaudit <audit@example.com>").
func ParseEmailFrom(s string) (*mail.Address, error) {
	a, err := mail.ParseAddress(s)
	if err != nil || !IsEmailAddress(a.Address) {
		return nil, fmt.Errorf("email from %q is not an email address SES can send from (ASCII, like orgaudit@example.com or \"orgaudit <orgaudit@example.com>\")", s)
	}
	return a, nil
}

// Validate checks the sender, the recipients and the SES region and reports all their problems at once.
func (e Email) Validate() error {
	var errs []error
	switch {
	case e.EmailFrom == "" && len(e.EmailTo) == 0:
		if e.EmailRegion != "" {
			errs = append(errs, errors.New("email region given without -email-from and -email-to"))
		}
		return errors.Join(errs...)
	case e.EmailFrom == "":
		errs = append(errs, errors.New("email to is given without email from: name the sender (-email-from, AUDIT_EMAIL_FROM)"))
	case len(e.EmailTo) == 0:
		errs = append(errs, errors.New("email from is given without email to: name the recipients (-email-to, AUDIT_EMAIL_TO)"))
	}
	if e.EmailFrom != "" {
		if _, err := ParseEmailFrom(e.EmailFrom); err != nil {
			errs = append(errs, err)
		}
	}
	for _, to := range e.EmailTo {
		if !IsEmailAddress(to) {
			errs = append(errs, fmt.Errorf("email to %q is not an email address SES can send to (ASCII, like platform-team@example.com)", to))
		}
	}
	if len(e.EmailTo) > delivery.MaxEmailRecipients {
		errs = append(errs, fmt.Errorf("email to names %d addresses; SES takes at most %d per message", len(e.EmailTo), delivery.MaxEmailRecipients))
	}
	if e.EmailRegion != "" && !regionName.MatchString(e.EmailRegion) {
		errs = append(errs, fmt.Errorf("email region %q is not a region name like eu-west-1", e.EmailRegion))
	}
	return errors.Join(errs...)
}
