package awssim

import (
	"fmt"
	"hash/fnv"
	"math/rand/v2"
	"time"
)

// GenerateOptions shape a generated organization.
type GenerateOptions struct {
	Accounts int
	// Regions are enabled in every account; the first is home to the topic and bucket.
	Regions []string
	// OptInRegion is enabled only in OptInShare of the accounts: auditing it elsewhere fails as AWS fails.
	OptInRegion string
	OptInShare  float64
	// MissingRoleShare of the accounts have no audit role; SuspendedShare are SUSPENDED.
	MissingRoleShare float64
	SuspendedShare   float64
	// LargeAccountStacks gives the second account this many stacks, a fifth of them failed, over many pages.
	LargeAccountStacks int
	PageSize           int
	AsOf               time.Time
	Seed               uint64
	// OUs spreads the member accounts over this many OUs below the root, Unit-00, Unit-01, …, in turn; the management
	// account stays in the root.
	OUs int
	// OwnerTagKey, when set, tags every member account with it: the owner of the account's OU, team-NN@example.com.
	OwnerTagKey string
}

// GeneratedTopicName and GeneratedBucket are where a generated organization's job delivers.
const (
	GeneratedTopicName      = "orgaudit-digest"
	GeneratedOwnerTopicName = "orgaudit-owner-digests"
	GeneratedBucket         = "orgaudit-reports-generated"
)

// GeneratedManagementAccount is the first account of every generated organization.
const GeneratedManagementAccount = "200000000000"

// GeneratedTopicARN is the generated organization's digest topic.
func GeneratedTopicARN(o GenerateOptions) string {
	return fmt.Sprintf("arn:aws:sns:%s:%s:%s", o.Regions[0], GeneratedManagementAccount, GeneratedTopicName)
}

var failedStatuses = []string{"CREATE_FAILED", "ROLLBACK_COMPLETE", "ROLLBACK_FAILED", "DELETE_FAILED", "UPDATE_FAILED",
	"UPDATE_ROLLBACK_FAILED", "UPDATE_ROLLBACK_COMPLETE", "IMPORT_ROLLBACK_FAILED"}

// Generate builds an organization of any size whose content is a pure function of the options, so runs can be
// compared: a fault-free run and a throttled one must find the same things.
func Generate(o GenerateOptions) *Organization {
	if o.PageSize == 0 {
		o.PageSize = 100
	}
	asOf := o.AsOf.UTC()
	day := func(n int) time.Time {
		return time.Date(asOf.Year(), asOf.Month(), asOf.Day(), 12, 0, 0, 0, time.UTC).AddDate(0, 0, n)
	}
	rng := func(parts ...any) *rand.Rand {
		h := fnv.New64a()
		fmt.Fprint(h, o.Seed)
		for _, p := range parts {
			fmt.Fprint(h, "/", p)
		}
		return rand.New(rand.NewPCG(h.Sum64(), o.Seed))
	}
	org := &Organization{ID: "o-generated01", ManagementAccountID: GeneratedManagementAccount, PageSize: o.PageSize}
	for i := 0; i < o.Accounts; i++ {
		id := fmt.Sprintf("%012d", 200000000000+i)
		r := rng("account", i)
		a := &Account{ID: id, Name: fmt.Sprintf("acct-%05d", i), Email: fmt.Sprintf("aws+%d@example.com", i), State: "ACTIVE",
			JoinedAt: day(-400), Roles: map[string]Role{DemoRoleName: {ExternalID: DemoExternalID}}, Regions: map[string]*Region{}}
		if i > 0 {
			switch x := r.Float64(); {
			case x < o.SuspendedShare:
				a.State = "SUSPENDED"
			case x < o.SuspendedShare+o.MissingRoleShare:
				a.Roles = nil
			}
		} else {
			a.Roles = nil // the management account is audited with the job's own credentials
		}
		regions := append([]string{}, o.Regions...)
		if o.OptInRegion != "" && r.Float64() < o.OptInShare {
			regions = append(regions, o.OptInRegion)
		}
		for _, name := range regions {
			a.Regions[name] = generateRegion(rng("region", i, name), id, name, day)
			for _, g := range generatedData {
				if g.perRegion != nil {
					g.perRegion(rng("region", i, name, g.service), a, name, day)
				}
			}
		}
		for _, g := range generatedData {
			if g.perAccount != nil {
				g.perAccount(rng("account", i, g.service), a, day)
			}
		}
		if i > 0 && o.OUs > 0 {
			unit := (i - 1) % o.OUs
			a.OU = fmt.Sprintf("Unit-%02d", unit)
			if o.OwnerTagKey != "" {
				a.Tags = map[string]string{o.OwnerTagKey: fmt.Sprintf("team-%02d@example.com", unit)}
			}
		}
		if i == 0 {
			home := a.Regions[o.Regions[0]]
			home.Topics, home.Buckets = []string{GeneratedTopicName, GeneratedOwnerTopicName}, []string{GeneratedBucket}
		}
		if i == 1 && o.LargeAccountStacks > 0 {
			home := a.Regions[o.Regions[0]]
			for s := 0; s < o.LargeAccountStacks; s++ {
				st := Stack{Name: fmt.Sprintf("workload-%05d", s), Status: "CREATE_COMPLETE", Created: day(-300)}
				if s%5 == 0 {
					st.Status, st.Reason = failedStatuses[s%len(failedStatuses)], fmt.Sprintf("Resource %d failed", s)
				}
				home.Stacks = append(home.Stacks, st)
			}
		}
		org.Accounts = append(org.Accounts, a)
	}
	return org
}

func generateRegion(r *rand.Rand, account, region string, day func(int) time.Time) *Region {
	const year = 31536000
	reg := &Region{}
	for s := 0; s < 3+r.IntN(3); s++ {
		st := Stack{Name: fmt.Sprintf("app-%d", s), Status: "CREATE_COMPLETE", Created: day(-200)}
		if r.Float64() < 0.15 {
			st.Status, st.Reason = failedStatuses[r.IntN(len(failedStatuses))], "Resource handler returned message: \"limit exceeded\""
		}
		reg.Stacks = append(reg.Stacks, st)
	}
	reg.Artifacts = []ProvisioningArtifact{{ProductID: "prod-baseline0001", ID: "pa-baseline00v2", Name: "v2.0.0", Description: "Account baseline", Created: day(-300)}}
	for p := 0; p < 1+r.IntN(3); p++ {
		pp := ProvisionedProduct{ID: fmt.Sprintf("pp-%s-%d", account[8:], p), Name: fmt.Sprintf("baseline-%d", p), Type: "CFN_STACK",
			Status: "AVAILABLE", ProductID: "prod-baseline0001", ProductName: "Account baseline", ArtifactID: "pa-baseline00v2",
			ArtifactName: "v2.0.0", LastRecordID: fmt.Sprintf("rec-%s-%s-%d", account[8:], region, p), UserARN: "arn:aws:sts::" + account + ":assumed-role/Admin/x", Created: day(-100)}
		rec := Record{ID: pp.LastRecordID, Type: "UPDATE_PROVISIONED_PRODUCT", Status: "SUCCEEDED", ProvisionedProductID: pp.ID, Created: day(-2), Updated: day(-2)}
		switch x := r.Float64(); {
		case x < 0.06:
			pp.Status, rec.Status, rec.Errors = "ERROR", "FAILED", []RecordError{{Code: "CREATE_FAILED", Description: "Subnet limit exceeded"}}
		case x < 0.1:
			pp.Status, rec.Status = "TAINTED", "FAILED"
		case x < 0.13:
			pp.Status, rec.Status, rec.Created = "UNDER_CHANGE", "IN_PROGRESS", day(-1)
		}
		reg.ProvisionedProducts = append(reg.ProvisionedProducts, pp)
		reg.Records = append(reg.Records, rec)
	}
	for k := 0; k < r.IntN(3); k++ {
		end := day(r.IntN(400) - 5)
		ri := ReservedInstance{ID: fmt.Sprintf("ri-%s%s%d", account[6:], region[len(region)-1:], k),
			InstanceType: "m6i.large", State: "active", Count: 1 + r.IntN(4), Scope: "Region", ProductDescription: "Linux/UNIX",
			Tenancy: "default", OfferingClass: "standard", OfferingType: "No Upfront", Start: end.Add(-year * time.Second), End: end, Duration: year,
			Price: Hourly(demoEC2NoUpfront["m6i.large"])}
		switch {
		case end.Before(day(0)):
			ri.State = "retired" // AWS retires a reservation at its end: yesterday or before is past whatever the as-of hour
			reg.ReservedInstances = append(reg.ReservedInstances, ri)
		case k == 1 && end.After(day(40)) && ri.Start.Before(day(-3)):
			// The second reservation, when far enough from its end and begun before, was modified three days ago into a
			// zonal one: the original retired then, as AWS reports it. No extra draw, so nothing else generated changes.
			mod := modifyReservation(ri, day(-3), ReservedInstance{ID: ri.ID + "m", InstanceType: ri.InstanceType, Count: ri.Count})
			mod[1].Scope, mod[1].AvailabilityZone = "Availability Zone", region+"a"
			reg.ReservedInstances = append(reg.ReservedInstances, mod...)
		default:
			reg.ReservedInstances = append(reg.ReservedInstances, ri)
		}
	}
	for k := 0; k < r.IntN(4); k++ {
		end := day(r.IntN(400) - 5)
		reg.ReservedDBInstances = append(reg.ReservedDBInstances, ReservedDBInstance{ID: fmt.Sprintf("rdb-%s-%s-%d", account[6:], region, k),
			Class: "db.r6g.large", State: "active", Count: 1, ProductDescription: "postgresql", OfferingType: "All Upfront",
			Start: end.Add(-year * time.Second), Duration: year, Price: Upfront(demoRDSAllUpfront["db.r6g.large"], 0)})
	}
	return reg
}
