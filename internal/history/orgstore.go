package history

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// NewOrganizationDirStore keeps each organization's history in a directory of its own under base: base/<o-…>, or
// base/account-<id> for runs that could not list their organization. It is the CLI's default (.orgaudit), so two
// organizations audited from one working directory never meet, whatever a state says about itself.
//
// States kept in base itself, as the CLI did before, are still found: when org's own directory holds no earlier
// run, Previous looks in base, under Lineage's rules (a state that names no organization is taken when it shares an
// account with the run). The run's own state then goes to org's directory, so the old one is taken once; nothing is
// moved or deleted, so another organization's old states stay for that organization to find.
//
// org is zero before the audit, when the organization is not known yet: then PreviousOwnerTags reads the latest
// run of every organization kept under base and takes each account's latest tag (account ids are unique across AWS,
// and the fan-out keeps only those of accounts its walk lists), and the store keeps nothing.
func NewOrganizationDirStore(base string, org Organization, lookback time.Duration) Store {
	o := &orgDirStore{base: base, org: org, legacy: NewDirStore(base, lookback)}
	if key := org.Key(); key != "" {
		o.own = NewDirStore(filepath.Join(base, key), lookback)
	}
	return o
}

type orgDirStore struct {
	base   string
	org    Organization
	own    Store // nil when org is zero
	legacy Store
}

// maxOrganizationDirs bounds the directories PreviousOwnerTags reads before the audit.
const maxOrganizationDirs = 64

var errNoOrganization = errors.New("the run's organization is not known")

func (o *orgDirStore) Where() string {
	if o.own == nil {
		return o.base
	}
	return o.own.Where()
}

func (o *orgDirStore) Put(ctx context.Context, s *State) error {
	if o.own == nil {
		return fmt.Errorf("store run state in %s: %w", o.base, errNoOrganization)
	}
	return o.own.Put(ctx, s)
}

func (o *orgDirStore) Previous(ctx context.Context, runTime time.Time, runID string, l Lineage) (*State, error) {
	if o.own == nil {
		return nil, &Unavailable{Kind: Unreadable, Where: o.base, Err: errNoOrganization}
	}
	s, err := o.own.Previous(ctx, runTime, runID, l)
	var u *Unavailable
	if s != nil || !errors.As(err, &u) || u.Kind != NoneStored {
		return s, err
	}
	old, oldErr := o.legacy.Previous(ctx, runTime, runID, l)
	if errors.As(oldErr, &u) && u.Kind == NoneStored {
		return nil, err // nothing in either place: say where this organization's history is
	}
	return old, oldErr
}

func (o *orgDirStore) Recent(ctx context.Context, from, to time.Time, org Organization) ([]Summary, error) {
	if o.own == nil {
		return nil, nil
	}
	return o.own.Recent(ctx, from, to, org)
}

func (o *orgDirStore) PreviousOwnerTags(ctx context.Context, runTime time.Time, runID string, org Organization) ([]OwnerTag, error) {
	if o.own != nil {
		tags, err := o.own.PreviousOwnerTags(ctx, runTime, runID, org)
		var u *Unavailable
		if err == nil || !errors.As(err, &u) || u.Kind != NoneStored {
			return tags, err
		}
		return o.legacy.PreviousOwnerTags(ctx, runTime, runID, org)
	}
	stores := []Store{o.legacy}
	entries, err := os.ReadDir(o.base)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, &Unavailable{Kind: Unreadable, Where: o.base, Err: err}
	}
	for _, e := range entries {
		name := e.Name()
		if e.IsDir() && (organizationIDPattern.MatchString(name) || strings.HasPrefix(name, "account-") && accountIDPattern.MatchString(name[len("account-"):])) {
			stores = append(stores, NewDirStore(filepath.Join(o.base, name), 0))
		}
		if len(stores) > maxOrganizationDirs {
			break
		}
	}
	latest := map[string]OwnerTag{}
	var errs []error
	for _, st := range stores {
		tags, err := st.PreviousOwnerTags(ctx, runTime, runID, Organization{})
		var u *Unavailable
		if err != nil && !(errors.As(err, &u) && u.Kind == NoneStored) {
			errs = append(errs, err)
		}
		for _, t := range tags {
			if have, ok := latest[t.AccountID]; !ok || t.ReadAt.After(have.ReadAt) {
				latest[t.AccountID] = t
			}
		}
	}
	out := make([]OwnerTag, 0, len(latest))
	for _, t := range latest {
		out = append(out, t)
	}
	slices.SortFunc(out, func(a, b OwnerTag) int { return strings.Compare(a.AccountID, b.AccountID) })
	return out, errors.Join(errs...)
}
