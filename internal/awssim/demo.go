package awssim

import (
	"fmt"
	"slices"
	"time"
)

// Demo names, so the demo and the tests agree on what the organization holds.
const (
	DemoManagementAccount = "111111111111"
	DemoRoleName          = "OrgAuditReadOnly"
	DemoExternalID        = "orgaudit-demo"
	DemoHomeRegion        = "us-east-1"
	DemoTopicName         = "orgaudit-digest"
	// DemoOwnerTopicName is the owners' digest topic: owners' digests go apart from the operator's.
	DemoOwnerTopicName = "orgaudit-owner-digests"
	DemoBucket         = "orgaudit-reports-111111111111"
	DemoMissingRole    = "999999999999"
	DemoSuspended      = "101010101010"
	// DemoOwnerTagKey is the tag the demo's accounts name their owners with: the job's default.
	DemoOwnerTagKey = "orgaudit:owner"
	// DemoUnreadableTags is the account whose tags a service control policy keeps from the job.
	DemoUnreadableTags = "121212121212"
)

// DemoOwners is whom each active account of Demo belongs to, as an audit must find: the owner tag's value, else the
// OU path (the security accounts and staging have no tag; analytics' tag cannot be read).
var DemoOwners = map[string]string{
	"111111111111": "Root", "222222222222": "platform-team", "333333333333": "platform-team", "444444444444": "data-team@example.com",
	"555555555555": "platform-team", "666666666666": "dev-team@example.com", "777777777777": "Root/Workloads/Dev",
	"888888888888": "Root/Security", "999999999999": "sandbox-owners", "121212121212": "Root/Workloads/Prod",
	"131313131313": "payments-team@example.com", "141414141414": "Root/Security", "151515151515": "Root/Security",
}

// DemoFindings is what Demo holds that an audit must find, as of any date: check → account/region/resource →
// severity ("critical", "warning" or "notice"). It sits beside the data so a change to one shows in the other; the
// end-to-end tests compare the audit's findings with it and derive their totals from it.
var DemoFindings = map[string]map[string]string{
	"service-catalog-products": {
		"222222222222/us-east-1/pp-sharederr0002": "critical", "222222222222/us-east-1/pp-sharedtnt0004": "warning",
		"666666666666/us-east-1/pp-devstuck00001": "warning", "666666666666/us-east-1/pp-deverr0000003": "critical",
		"666666666666/us-east-1/pp-devfail000004": "warning", "131313131313/us-east-1/pp-paytainted001": "warning",
	},
	"cloudformation-failed-stacks": {
		"333333333333/eu-west-1/network-core": "critical", "333333333333/eu-west-1/dns-zones": "warning",
		"333333333333/eu-west-1/flow-logs-archive": "critical", "333333333333/eu-west-1/vpn-gateway": "critical",
		"666666666666/us-east-1/SC-666666666666-pp-deverr0000003": "warning",
		"131313131313/us-east-1/payments-api":                     "notice", "131313131313/us-east-1/payments-import": "critical",
		"131313131313/us-east-1/payments-ledger": "warning",
	},
	"ec2-reserved-instances": {
		"111111111111/us-east-1/ri-0mgmt00000000045": "notice", "555555555555/eu-west-1/ri-0compute0000renew": "notice",
		"555555555555/eu-west-1/ri-0compute00modified": "warning", "555555555555/eu-west-1/ri-0compute000000025": "warning",
		"555555555555/eu-west-1/ri-0compute00expir09": "notice", "777777777777/eu-west-1/ri-0staging00lapsed": "critical",
		"777777777777/eu-west-1/ri-0staging00lapsd2":       "warning", // lapsed; its renewal's payment is still pending
		"888888888888/ap-southeast-2/ri-0security0000059":  "notice",
		"888888888888/ap-southeast-2/ri-0security00unpaid": "critical", // payment failed yesterday
		"888888888888/ap-southeast-2/ri-0security00frozen": "warning",  // a state no document names
	},
	"rds-reserved-instances": {
		"444444444444/us-east-1/ri-data-pg-001": "critical", "444444444444/us-east-1/ri-data-pg-003": "warning",
		"444444444444/us-east-1/ri-data-pg-005": "notice", "444444444444/us-east-1/ri-data-pg-008": "warning",
		"121212121212/af-south-1/ri-analytics-007d": "critical", "121212121212/af-south-1/ri-analytics-030d": "warning",
		"121212121212/af-south-1/ri-analytics-060d": "notice", "121212121212/af-south-1/ri-analytics-lapsd": "critical",
	},
}

// DemoRenewals are the renewals Demo holds for the commitments DemoFindings lists, keyed as DemoChanges keys findings
// (check/account/region/resource): the id of the reservation or plan that renews each, in whole or in part. With the
// prices the scenario declares they say what each commitment puts at risk: all of it without a renewal, nothing when
// the renewal is as large (count, or a plan's hourly commitment), the share it lacks when it is smaller.
var DemoRenewals = map[string]string{
	"ec2-reserved-instances/555555555555/eu-west-1/ri-0compute0000renew": "ri-0compute000queued",
	"ec2-reserved-instances/555555555555/eu-west-1/ri-0compute000000025": "ri-0compute000renew4", // 4 of 6 instances
	"ec2-reserved-instances/555555555555/eu-west-1/ri-0compute00expir09": "ri-0compute000bought",
	"ec2-reserved-instances/777777777777/eu-west-1/ri-0staging00lapsd2":  "ri-0staging00renew2", // payment pending
}

// DemoStateNotRecognised are the commitment findings of Demo, keyed as DemoRenewals, whose state no document names:
// what they cost is known, what of it is at risk cannot be told.
var DemoStateNotRecognised = map[string]bool{
	"ec2-reserved-instances/888888888888/ap-southeast-2/ri-0security00frozen": true,
}

// DemoSeverityCounts totals DemoFindings by severity.
func DemoSeverityCounts() map[string]int {
	out := map[string]int{}
	for _, byKey := range DemoFindings {
		for _, sev := range byKey {
			out[sev]++
		}
	}
	return out
}

// DemoTopicARN is the SNS topic the demo publishes to.
func DemoTopicARN() string {
	return fmt.Sprintf("arn:aws:sns:%s:%s:%s", DemoHomeRegion, DemoManagementAccount, DemoTopicName)
}

// DemoOwnerTopicARN is the SNS topic the demo publishes owners' digests to.
func DemoOwnerTopicARN() string {
	return fmt.Sprintf("arn:aws:sns:%s:%s:%s", DemoHomeRegion, DemoManagementAccount, DemoOwnerTopicName)
}

// Demo builds the demo organization relative to asOf, so the same findings appear whatever the date: 14 accounts in
// up to 4 regions, every finding kind, a stuck product and one whose change is already failing, a nested failed stack
// and one stuck rolling back, a renewed (queued), a renewed (bought outright) and a modified EC2 reservation (the
// original retired at the modification, as AWS reports it), EC2 and RDS reservations that lapsed unrenewed, one
// renewed by a purchase whose payment is pending and one retired early by an exchange, every documented EC2
// reservation state and one no document names, RDS reservations over several pages, a suspended account and an
// account without the audit role. Every commitment has a price (per unit, illustrative list prices: every payment
// option, counts above one, renewals that cover all and one that covers 4 of 6 instances), so the money at risk can be
// worked out from the scenario alone (DemoRenewals).
func Demo(asOf time.Time) *Organization {
	asOf = asOf.UTC()
	day := func(n int) time.Time { // noon UTC n calendar days after the as-of date
		d := time.Date(asOf.Year(), asOf.Month(), asOf.Day(), 12, 0, 0, 0, time.UTC)
		return d.AddDate(0, 0, n)
	}
	ago := func(d time.Duration) time.Time { return asOf.Add(-d) }
	const year = 365 * 24 * 3600
	role := map[string]Role{DemoRoleName: {ExternalID: DemoExternalID}}
	engineer := func(acct string) string { return "arn:aws:sts::" + acct + ":assumed-role/PlatformEngineer/alice" }
	regions := func(names ...string) map[string]*Region {
		m := map[string]*Region{}
		for _, n := range names {
			m[n] = &Region{}
		}
		return m
	}
	std := func() map[string]*Region { return regions("us-east-1", "eu-west-1", "ap-southeast-2") }
	acct := func(id, name string, rs map[string]*Region) *Account {
		return &Account{ID: id, Name: name, Email: "aws+" + name + "@example.com", State: "ACTIVE", JoinedAt: day(-700), Roles: role, Regions: rs}
	}
	// Prices are per instance, as the APIs report them, and illustrative: near AWS's public list prices for a one-year
	// Linux reservation in the region the demo holds it (No Upfront unless a reservation says otherwise).
	ec2RI := func(id, typ string, count int, start, end time.Time, state string) ReservedInstance {
		return ReservedInstance{ID: id, InstanceType: typ, Count: count, Start: start, End: end, Duration: year, State: state,
			ProductDescription: "Linux/UNIX", Scope: "Region", Tenancy: "default", OfferingClass: "standard", OfferingType: "No Upfront",
			Price: Hourly(demoEC2NoUpfront[typ])}
	}
	priced := func(ri ReservedInstance, offering string, p Price) ReservedInstance {
		ri.OfferingType, ri.Price = offering, p
		return ri
	}
	// One DB instance each, PostgreSQL, All Upfront unless a reservation says otherwise.
	rdsRI := func(id, class string, endDay int, state string) ReservedDBInstance {
		start := day(endDay).Add(-year * time.Second)
		return ReservedDBInstance{ID: id, OfferingID: "offer-" + id, Class: class, Count: 1, Start: start, Duration: year,
			State: state, ProductDescription: "postgresql", OfferingType: "All Upfront", LeaseID: pseudoUUID(id),
			Price: Upfront(demoRDSAllUpfront[class], 0)}
	}
	product := func(acct, id, name, status, msg, rec string) ProvisionedProduct {
		return ProvisionedProduct{ID: id, Name: name, Type: "CFN_STACK", Status: status, StatusMessage: msg,
			ProductID: "prod-vpcbaseline01", ProductName: "VPC baseline", ArtifactID: "pa-vpc000000v3", ArtifactName: "v3.2.0",
			LastRecordID: rec, UserARN: engineer(acct), Created: ago(90 * 24 * time.Hour),
			PhysicalID: StackARN("aws", "us-east-1", acct, "SC-"+acct+"-"+id)}
	}
	vpcArtifacts := []ProvisioningArtifact{
		{ProductID: "prod-vpcbaseline01", ID: "pa-vpc000000v3", Name: "v3.2.0", Description: "Three-tier VPC with IPv6 and flow logs", Created: day(-200)},
		{ProductID: "prod-bucketstd001", ID: "pa-bkt0000000v1", Name: "v1.4.1", Description: "Encrypted S3 bucket with access logging", Created: day(-300)},
	}

	mgmt := acct(DemoManagementAccount, "management", std())
	mgmt.Roles = nil // the job audits the account it runs in with its own credentials
	mgmt.Regions["us-east-1"].Topics = []string{DemoTopicName, DemoOwnerTopicName}
	mgmt.Regions["us-east-1"].Buckets = []string{DemoBucket}
	mgmt.Regions["us-east-1"].ReservedInstances = []ReservedInstance{
		priced(ec2RI("ri-0mgmt00000000045", "t3.large", 2, day(45).Add(-year*time.Second), day(45), "active"), "Partial Upfront", Upfront(228, 0.026)),
	}

	shared := acct("222222222222", "shared-services", std())
	sharedUSE := shared.Regions["us-east-1"]
	sharedUSE.Artifacts = vpcArtifacts
	sharedUSE.ProvisionedProducts = []ProvisionedProduct{
		product("222222222222", "pp-sharedvpc0001", "shared-vpc", "AVAILABLE", "", "rec-shared0001"),
		product("222222222222", "pp-sharederr0002", "transit-attachment", "ERROR", "Stack creation failed. See record errors.", "rec-shared0002"),
		product("222222222222", "pp-sharedok00003", "dns-resolver", "AVAILABLE", "", "rec-shared0003"),
		product("222222222222", "pp-sharedtnt0004", "egress-vpc", "TAINTED", "Update failed; running the previous version v3.1.0", "rec-shared0004"),
		product("222222222222", "pp-sharedok00005", "ipam-pools", "AVAILABLE", "", "rec-shared0005"),
	}
	sharedUSE.ProvisionedProducts[3].ArtifactID, sharedUSE.ProvisionedProducts[3].ArtifactName = "pa-vpc000000v3", "v3.2.0"
	sharedUSE.Records = []Record{
		{ID: "rec-shared0002", Type: "PROVISION_PRODUCT", Status: "FAILED", ProvisionedProductID: "pp-sharederr0002", ProvisionedProductName: "transit-attachment",
			ProductID: "prod-vpcbaseline01", ArtifactID: "pa-vpc000000v3", Created: ago(30 * time.Hour), Updated: ago(29 * time.Hour),
			Errors: []RecordError{{Code: "CREATE_FAILED", Description: "TransitGatewayAttachment: The transit gateway tgw-0abc is not shared with this account"}}},
		{ID: "rec-shared0004", Type: "UPDATE_PROVISIONED_PRODUCT", Status: "FAILED", ProvisionedProductID: "pp-sharedtnt0004", ProvisionedProductName: "egress-vpc",
			ProductID: "prod-vpcbaseline01", ArtifactID: "pa-vpc000000v3", Created: ago(50 * time.Hour), Updated: ago(49 * time.Hour),
			Errors: []RecordError{{Code: "UPDATE_FAILED", Description: "NatGateway: Elastic IP address limit exceeded"}}},
	}

	network := acct("333333333333", "network", std())
	network.Regions["eu-west-1"].Stacks = []Stack{
		{Name: "network-core", Status: "UPDATE_ROLLBACK_FAILED", Reason: "The following resource(s) failed to update: [VpcStack]", Created: day(-300), Updated: ago(20 * time.Hour)},
		{Name: "network-core-VpcStack-1QX2Z3", Status: "UPDATE_FAILED", Reason: "Resource handler returned message: \"The CIDR '10.0.0.0/16' conflicts with another subnet\"",
			ParentID: "network-core", RootID: "network-core", Created: day(-300), Updated: ago(20 * time.Hour)},
		{Name: "dns-zones", Status: "ROLLBACK_COMPLETE", Reason: "The following resource(s) failed to create: [HostedZone]", Created: ago(72 * time.Hour)},
		{Name: "flow-logs-archive", Status: "DELETE_FAILED", Reason: "The bucket you tried to delete is not empty", Created: day(-400), Updated: ago(10 * time.Hour)},
		{Name: "vpn-gateway", Status: "CREATE_FAILED", Reason: "Customer gateway IP 203.0.113.10 is already in use", Created: ago(5 * time.Hour)},
	}

	data := acct("444444444444", "data-platform", std())
	// Two Multi-AZ instances, Partial Upfront, three days from their end; one No Upfront.
	pg001 := rdsRI("ri-data-pg-001", "db.r6g.xlarge", 3, "active")
	pg001.Count, pg001.MultiAZ, pg001.OfferingType, pg001.Price = 2, true, "Partial Upfront", Upfront(2920, 0.333)
	pg005 := rdsRI("ri-data-pg-005", "db.r6g.2xlarge", 50, "active")
	pg005.OfferingType, pg005.Price = "No Upfront", Hourly(0.704)
	data.Regions["us-east-1"].ReservedDBInstances = []ReservedDBInstance{
		pg001,
		rdsRI("ri-data-pg-002", "db.r6g.large", 200, "active"),
		rdsRI("ri-data-pg-003", "db.m6g.large", 20, "active"),
		rdsRI("ri-data-pg-004", "db.m6g.large", -45, "retired"), // lapsed too long ago to be news
		pg005,
		rdsRI("ri-data-pg-006", "db.t4g.medium", 5, "payment-pending"),
		rdsRI("ri-data-pg-007", "db.r6g.large", 300, "active"),
		rdsRI("ri-data-pg-008", "db.r6g.large", 28, "active"),
	}

	compute := acct("555555555555", "compute-prod", std())
	// Modified five days ago, four c6i.xlarge into two c6i.2xlarge: AWS retired the original with End at that moment
	// (ended early, not lapsed: no finding) and the new one runs from then to the original's end, judged on its own.
	modified := modifyReservation(ec2RI("ri-0compute00modfrom", "c6i.xlarge", 4, day(12).Add(-year*time.Second), day(12), "active"), day(-5),
		ReservedInstance{ID: "ri-0compute00modified", InstanceType: "c6i.2xlarge", Count: 2})
	compute.Regions["eu-west-1"].ReservedInstances = []ReservedInstance{
		ec2RI("ri-0compute0000renew", "m6i.xlarge", 4, day(5).Add(-year*time.Second), day(5), "active"),
		ec2RI("ri-0compute000queued", "m6i.xlarge", 4, day(5), day(5).Add(year*time.Second), "queued"),
		modified[0], modified[1],
		// Six instances Partial Upfront, and a queued renewal for only four of them: two are at risk.
		priced(ec2RI("ri-0compute000000025", "r6i.large", 6, day(25).Add(-year*time.Second), day(25), "active"), "Partial Upfront", Upfront(482.6, 0.055)),
		priced(ec2RI("ri-0compute000renew4", "r6i.large", 4, day(25), day(25).Add(year*time.Second), "queued"), "Partial Upfront", Upfront(482.6, 0.055)),
		ec2RI("ri-0compute000000400", "r6i.2xlarge", 6, day(-10), day(400), "active"),
		ec2RI("ri-0compute00retired", "m5.large", 1, day(-400), day(-35), "retired"), // lapsed too long ago to be news
		// Renewed by a purchase bought outright three days ago rather than queued.
		ec2RI("ri-0compute00expir09", "t3.xlarge", 2, day(9).Add(-year*time.Second), day(9), "active"),
		ec2RI("ri-0compute000bought", "t3.xlarge", 2, day(-3), day(-3).Add(year*time.Second), "active"),
	}

	dev := acct("666666666666", "workloads-dev", std())
	devUSE := dev.Regions["us-east-1"]
	devUSE.Artifacts = vpcArtifacts
	devUSE.ProvisionedProducts = []ProvisionedProduct{
		product("666666666666", "pp-devstuck00001", "dev-vpc", "UNDER_CHANGE", "", "rec-dev00001"),
		product("666666666666", "pp-devplan000002", "dev-vpc-next", "PLAN_IN_PROGRESS", "", "rec-dev00002"),
		product("666666666666", "pp-deverr0000003", "artifacts-bucket", "ERROR", "", "rec-dev00003"),
		product("666666666666", "pp-devfail000004", "dev-endpoints", "UNDER_CHANGE", "", "rec-dev00004"),
	}
	devUSE.ProvisionedProducts[2].ProductID, devUSE.ProvisionedProducts[2].ProductName = "prod-bucketstd001", "Standard S3 bucket"
	devUSE.ProvisionedProducts[2].ArtifactID, devUSE.ProvisionedProducts[2].ArtifactName = "pa-bkt0000000v1", "v1.4.1"
	devUSE.Records = []Record{
		{ID: "rec-dev00001", Type: "UPDATE_PROVISIONED_PRODUCT", Status: "IN_PROGRESS", ProvisionedProductID: "pp-devstuck00001", ProvisionedProductName: "dev-vpc",
			Created: ago(9 * time.Hour), Updated: ago(9 * time.Hour)},
		{ID: "rec-dev00002", Type: "UPDATE_PROVISIONED_PRODUCT", Status: "CREATED", ProvisionedProductID: "pp-devplan000002", ProvisionedProductName: "dev-vpc-next",
			Created: ago(1 * time.Hour), Updated: ago(1 * time.Hour)},
		{ID: "rec-dev00003", Type: "PROVISION_PRODUCT", Status: "FAILED", ProvisionedProductID: "pp-deverr0000003", ProvisionedProductName: "artifacts-bucket",
			Created: ago(26 * time.Hour), Updated: ago(26 * time.Hour),
			Errors: []RecordError{{Code: "CREATE_FAILED", Description: "Bucket: artifacts-dev already exists"}}},
		// Twenty minutes in and already failing: reported without waiting for the stuck threshold.
		{ID: "rec-dev00004", Type: "UPDATE_PROVISIONED_PRODUCT", Status: "IN_PROGRESS_IN_ERROR", ProvisionedProductID: "pp-devfail000004", ProvisionedProductName: "dev-endpoints",
			Created: ago(20 * time.Minute), Updated: ago(5 * time.Minute),
			Errors: []RecordError{{Code: "UPDATE_FAILED", Description: "VpcEndpoint: The service name com.amazonaws.us-east-1.execute-api-x is not valid"}}},
	}
	devUSE.Stacks = []Stack{
		{Name: "SC-666666666666-pp-deverr0000003", Status: "ROLLBACK_COMPLETE", Reason: "The following resource(s) failed to create: [Bucket]", Created: ago(26 * time.Hour)},
	}

	staging := acct("777777777777", "workloads-staging", std())
	convertible := ec2RI("ri-0staging0exchngd", "c6i.large", 2, day(-165), day(200), "active")
	convertible.OfferingClass, convertible.Price = "convertible", Hourly(0.0735)
	// Exchanged twenty days ago for a Convertible reservation of the next generation: retired then (End at the
	// exchange), its capacity carried on by the new one.
	exchanged := modifyReservation(convertible, day(-20), ReservedInstance{ID: "ri-0staging0xchgnew", InstanceType: "c7i.large", Count: 2})
	staging.Regions["eu-west-1"].ReservedInstances = []ReservedInstance{
		// AWS retired it at its end four days ago and nothing replaced it.
		ec2RI("ri-0staging00lapsed", "m6i.large", 3, day(-4).Add(-year*time.Second), day(-4), "retired"),
		exchanged[0], exchanged[1],
		// Lapsed two days ago and bought again yesterday, but the payment has not gone through yet.
		ec2RI("ri-0staging00lapsd2", "t3.medium", 2, day(-2).Add(-year*time.Second), day(-2), "retired"),
		ec2RI("ri-0staging00renew2", "t3.medium", 2, day(-1), day(-1).Add(year*time.Second), "payment-pending"),
	}

	security := acct("888888888888", "security-audit", std())
	// The security team buys All Upfront.
	allUpfront := func(ri ReservedInstance) ReservedInstance {
		return priced(ri, "All Upfront", Upfront(demoEC2AllUpfront[ri.InstanceType], 0))
	}
	security.Regions["ap-southeast-2"].ReservedInstances = []ReservedInstance{
		allUpfront(ec2RI("ri-0security0000059", "m6g.large", 1, day(59).Add(-year*time.Second), day(59), "active")),
		// A queued renewal deleted before it started renews nothing; a purchase whose payment failed is not in effect.
		allUpfront(ec2RI("ri-0security0deleted", "m6g.large", 1, day(59), day(59).Add(year*time.Second), "queued-deleted")),
		allUpfront(ec2RI("ri-0security00unpaid", "r6g.large", 2, day(-1), day(-1).Add(year*time.Second), "payment-failed")),
		// A state no document names: reported as not recognised, never dropped.
		allUpfront(ec2RI("ri-0security00frozen", "c6g.large", 1, day(-30), day(-30).Add(year*time.Second), "frozen-by-support")),
	}

	sandbox := acct(DemoMissingRole, "legacy-sandbox", std())
	sandbox.Roles = nil // the StackSet never reached it

	closed := acct(DemoSuspended, "closed-project", std())
	closed.State = "SUSPENDED"

	analytics := acct("121212121212", "analytics", regions("us-east-1", "eu-west-1", "ap-southeast-2", "af-south-1"))
	analytics.Regions["af-south-1"].ReservedDBInstances = []ReservedDBInstance{
		rdsRI("ri-analytics-007d", "db.r6g.large", 7, "active"),
		rdsRI("ri-analytics-030d", "db.r6g.large", 30, "active"),
		rdsRI("ri-analytics-060d", "db.r6g.large", 60, "active"),
		rdsRI("ri-analytics-061d", "db.r6g.large", 61, "active"),
		rdsRI("ri-analytics-lapsd", "db.r6g.large", -6, "retired"), // lapsed six days ago, not renewed
	}

	payments := acct("131313131313", "payments", std())
	payments.Regions["us-east-1"].Stacks = []Stack{
		{Name: "payments-api", Status: "UPDATE_ROLLBACK_COMPLETE", Reason: "Resource handler returned message: \"Function memory exceeds account limit\"", Created: day(-90), Updated: ago(4 * 24 * time.Hour)},
		{Name: "payments-import", Status: "IMPORT_ROLLBACK_FAILED", Reason: "Import of AWS::DynamoDB::Table failed: table not found", Created: day(-20), Updated: ago(6 * 24 * time.Hour)},
		// Stuck rolling back past the 6h threshold; the young delete beside it is still in its stride.
		{Name: "payments-ledger", Status: "UPDATE_ROLLBACK_IN_PROGRESS", Reason: "The following resource(s) failed to update: [LedgerTable]", Created: day(-120), Updated: ago(9 * time.Hour)},
		{Name: "payments-sandbox", Status: "DELETE_IN_PROGRESS", Reason: "User Initiated", Created: day(-60), Updated: ago(20 * time.Minute)},
	}
	payments.Regions["us-east-1"].Artifacts = vpcArtifacts
	payments.Regions["us-east-1"].ProvisionedProducts = []ProvisionedProduct{
		product("131313131313", "pp-paytainted001", "payments-vpc", "TAINTED", "", "rec-pay00001"),
	}
	payments.Regions["us-east-1"].Records = []Record{{ID: "rec-pay00001", Type: "UPDATE_PROVISIONED_PRODUCT", Status: "FAILED",
		ProvisionedProductID: "pp-paytainted001", ProvisionedProductName: "payments-vpc", Created: ago(8 * 24 * time.Hour), Updated: ago(8 * 24 * time.Hour),
		Errors: []RecordError{{Code: "UPDATE_FAILED", Description: "Subnet: The CIDR '10.20.4.0/22' is invalid"}}}}

	logArchive := acct("141414141414", "log-archive", std())
	identity := acct("151515151515", "identity", std())

	// The OU tree and the owners: teams tag their accounts with DemoOwnerTagKey (a team name or an address); the
	// security accounts and staging carry no tag and are owned by their OU, and analytics' tags cannot be read.
	for ou, accounts := range map[string][]*Account{
		"Infrastructure": {shared, network}, "Security": {security, logArchive, identity}, "Sandbox": {sandbox, closed},
		"Workloads/Prod": {data, compute, analytics, payments}, "Workloads/Dev": {dev, staging},
	} {
		for _, a := range accounts {
			a.OU = ou
		}
	}
	for owner, accounts := range map[string][]*Account{
		"platform-team": {shared, network, compute}, "data-team@example.com": {data},
		"payments-team@example.com": {payments}, "dev-team@example.com": {dev}, "sandbox-owners": {sandbox, closed},
	} {
		for _, a := range accounts {
			a.Tags = map[string]string{DemoOwnerTagKey: owner, "cost-center": "cc-" + a.ID[:4]}
		}
	}
	analytics.Tags = map[string]string{DemoOwnerTagKey: "analytics-team@example.com"}
	analytics.TagFault = "AccessDeniedException" // a service control policy denies reading its tags
	org := &Organization{
		ID: "o-demo0rgaud1", ManagementAccountID: DemoManagementAccount, PageSize: 3,
		Accounts: []*Account{mgmt, shared, network, data, compute, dev, staging, security, sandbox, closed, analytics, payments, logArchive, identity},
		// Organizations meters the management account: tag reads that did not pace themselves would be answered
		// TooManyRequestsException. The meter leaves room for a few runs back to back (the tests run many on one
		// organization), each a walk of 17 calls at the simulator's speed and 13 tag reads.
		RequestRate: 100, RequestBurst: 100,
	}
	for _, add := range demoData {
		add(org, day)
	}
	return org
}

// demoEC2NoUpfront is the hourly price per instance of a one-year standard No Upfront Linux reservation, and
// demoEC2AllUpfront the upfront price of an All Upfront one: illustrative, near AWS's public list prices in the
// regions the demo holds them (eu-west-1, ap-southeast-2), not quotes.
var (
	demoEC2NoUpfront = map[string]float64{"t3.medium": 0.026, "t3.large": 0.052, "t3.xlarge": 0.114, "m5.large": 0.062,
		"m6i.large": 0.068, "m6i.xlarge": 0.135, "c6i.xlarge": 0.121, "r6i.large": 0.089, "r6i.2xlarge": 0.352,
		"c7i.large": 0.077, "m6g.large": 0.058, "r6g.large": 0.076, "c6g.large": 0.052}
	demoEC2AllUpfront = map[string]float64{"m6g.large": 495, "r6g.large": 660, "c6g.large": 445}
)

// demoRDSAllUpfront is the upfront price of a one-year All Upfront PostgreSQL reservation of one Single-AZ DB
// instance of a class: illustrative, near AWS's public list prices in us-east-1 (af-south-1 runs higher; the demo
// keeps one table).
var demoRDSAllUpfront = map[string]float64{"db.t4g.medium": 400, "db.m6g.large": 1280, "db.r6g.large": 1445,
	"db.r6g.xlarge": 2890, "db.r6g.2xlarge": 5780}

// DemoSuppressions is the demo's suppressions file, as a person would put it at <prefix>/suppressions.yaml in the
// report bucket: one rule, for the payments account's rolled-back API stack (a glob, as rules may be). It expires 90
// days after asOf.
func DemoSuppressions(asOf time.Time) string {
	return `suppressions:
  - check: cloudformation-failed-stacks
    account_id: "131313131313"
    resource_id: payments-a*
    region: us-east-1
    reason: rollback accepted until the memory limit is raised, CHG-2291
    owner: payments-team@example.com
    expires: ` + asOf.UTC().AddDate(0, 0, 90).Format(time.DateOnly) + "\n"
}

// DemoSuppressed lists, as DemoChanges keys them (check/account/region/resource), the findings DemoSuppressions
// holds back.
var DemoSuppressed = []string{"cloudformation-failed-stacks/131313131313/us-east-1/payments-api"}

// DemoChanges is what a run on Demo(asOf) finds changed since a run on DemoYesterday(asOf), keyed as DemoFindings:
// the explicit differences DemoYesterday makes, and nothing else.
var DemoChanges = struct {
	New, Escalated, Deescalated, Resolved, Unverified []string
	// OutOfScope are the resolved ones whose account is no longer active.
	OutOfScope []string
}{
	// The VPN gateway stack failed this morning.
	New: []string{"cloudformation-failed-stacks/333333333333/eu-west-1/vpn-gateway"},
	// A day closer to its end, the 30-day RDS reservation crossed from notice into warning.
	Escalated: []string{"rds-reserved-instances/121212121212/af-south-1/ri-analytics-030d"},
	// Renewed overnight (the queued reservation was bought): critical yesterday, a notice today. Ongoing.
	Deescalated: []string{"ec2-reserved-instances/555555555555/eu-west-1/ri-0compute0000renew"},
	// The transit-routes stack was fixed (deleted); the closed project's stack went with its account.
	Resolved:   []string{"cloudformation-failed-stacks/333333333333/eu-west-1/transit-routes", "cloudformation-failed-stacks/101010101010/us-east-1/project-teardown"},
	OutOfScope: []string{"cloudformation-failed-stacks/101010101010/us-east-1/project-teardown"},
	// The legacy sandbox's audit role was deleted today, so its failed stack cannot be re-checked: never "fixed".
	Unverified: []string{"cloudformation-failed-stacks/999999999999/us-east-1/legacy-app"},
}

// DemoYesterday is the demo organization as it was the day before asOf: Demo(asOf - 1 day) with the differences
// DemoChanges describes, so that `audit demo` can show a day's changes.
func DemoYesterday(asOf time.Time) *Organization {
	yesterday := asOf.UTC().AddDate(0, 0, -1)
	org := Demo(yesterday)
	day := time.Date(yesterday.Year(), yesterday.Month(), yesterday.Day(), 12, 0, 0, 0, time.UTC)
	network := org.account("333333333333").Regions["eu-west-1"]
	// The VPN gateway stack did not exist yet; transit-routes was still failed.
	network.Stacks = slices.DeleteFunc(network.Stacks, func(s Stack) bool { return s.Name == "vpn-gateway" })
	network.Stacks = append(network.Stacks, Stack{Name: "transit-routes", Status: "UPDATE_ROLLBACK_FAILED",
		Reason: "The following resource(s) failed to update: [RouteTable]", Created: day.AddDate(0, 0, -200), Updated: yesterday.Add(-3 * time.Hour)})
	// The renewal of ri-0compute0000renew was not yet queued.
	compute := org.account("555555555555").Regions["eu-west-1"]
	compute.ReservedInstances = slices.DeleteFunc(compute.ReservedInstances, func(r ReservedInstance) bool { return r.ID == "ri-0compute000queued" })
	// ri-analytics-030d ends on the same date as today: 31 days from yesterday.
	for i, r := range org.account("121212121212").Regions["af-south-1"].ReservedDBInstances {
		if r.ID == "ri-analytics-030d" {
			org.account("121212121212").Regions["af-south-1"].ReservedDBInstances[i].Start = r.Start.AddDate(0, 0, 1)
		}
	}
	// The legacy sandbox still had its audit role, and a failed stack.
	sandbox := org.account(DemoMissingRole)
	sandbox.Roles = map[string]Role{DemoRoleName: {ExternalID: DemoExternalID}}
	sandbox.Regions["us-east-1"].Stacks = []Stack{{Name: "legacy-app", Status: "ROLLBACK_COMPLETE",
		Reason: "The following resource(s) failed to create: [LoadBalancer]", Created: day.AddDate(0, 0, -30)}}
	// The closed project was still active, with a stack failing to delete.
	closed := org.account(DemoSuspended)
	closed.State = "ACTIVE"
	closed.Regions["us-east-1"].Stacks = []Stack{{Name: "project-teardown", Status: "DELETE_FAILED",
		Reason: "The bucket you tried to delete is not empty", Created: day.AddDate(0, 0, -60), Updated: yesterday.Add(-2 * time.Hour)}}
	return org
}
