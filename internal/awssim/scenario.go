package awssim

import "time"

// Organization is a simulated AWS Organization: plain Go data that a Server answers from. It is read-only once the
// server starts, so handlers share it without locks.
type Organization struct {
	ID                  string // o-xxxxxxxxxx
	ManagementAccountID string
	Partition           string // aws when empty
	Accounts            []*Account
	// PageSize caps every paginated answer, so clients cross page boundaries even on small data. RDS still honours
	// its documented MaxRecords floor of 20 for the request, the server just returns fewer.
	PageSize int
	// RepeatToken lists operations that answer every page asked for with a token by handing that same token back,
	// as a faulty backend can: a client that follows it blindly reads the same page forever.
	RepeatToken []string
	// OUs are paths of OUs below the root ("Workloads/Prod") that exist even when no account sits in them; an
	// account's OU makes its path exist too.
	OUs []string
	// DelegatedAdmins are member accounts registered as delegated administrators: they may read the organization as
	// the management account does.
	DelegatedAdmins []string
	// RequestRate and RequestBurst meter each calling account's Organizations requests (a token bucket): past them
	// Organizations answers TooManyRequestsException. Zero RequestRate means no limit.
	RequestRate  float64
	RequestBurst int
	// ListingFaults break the listing of one parent part way, by its OU path below the root ("Workloads/Prod"; ""
	// for the root itself): the organization as a walk sees it when Organizations fails mid-tree.
	ListingFaults map[string]ListingFault
	// PriceList is the public AWS Price List GetProducts answers from (pricing.go): the same for every caller.
	PriceList []PriceListProduct
}

// ListingFault is how the listing of one parent fails. From page Page (0 is the first) on, every attempt of
// Operation on that parent answers Code, or, with RepeatToken, hands the page's own token back. The pages before it
// arrive whole, so a walk has audited part of the parent when it breaks.
type ListingFault struct {
	// Operation is ListAccountsForParent or ListOrganizationalUnitsForParent.
	Operation string
	// Code is an error of the operation's model: ServiceException (HTTP 500, a "fault" in botocore's model, so the
	// SDK retries it and still fails when it persists), TooManyRequestsException, AccessDeniedException, ....
	Code string
	Page int
	// RepeatToken answers the pages from Page on (Page at least 1: the first page is asked for with no token) with
	// the token they were asked for, as a faulty backend can.
	RepeatToken bool
}

// Account is one member (or the management) account.
type Account struct {
	ID, Name, Email string
	State           string // ACTIVE, SUSPENDED, PENDING_CLOSURE, CLOSED
	JoinedAt        time.Time
	// Roles are the IAM roles other accounts may assume, by role name.
	Roles map[string]Role
	// Regions are the regions enabled in the account, with what each holds. A call to any other region fails the way
	// AWS fails for a region that is not opted in.
	Regions map[string]*Region
	// SavingsPlans belong to the account, not to a region: Savings Plans is a global service.
	SavingsPlans []SavingsPlan
	// OU is the account's OU path below the root, "Workloads/Prod"; empty for an account in the root.
	OU string
	// Tags are the account's Organizations tags. Their values may be anything a scenario needs (long, unicode,
	// control characters): AWS validates what TagResource accepts, an auditor must survive what it reads.
	Tags map[string]string
	// TagFault, when set, is what ListTagsForResource answers for this account on every attempt:
	// AccessDeniedException or TooManyRequestsException.
	TagFault string
}

// SavingsPlan is one plan as DescribeSavingsPlans reports it. Commitment and Upfront are decimal text, as on the wire.
type SavingsPlan struct {
	ID, OfferingID, Description, State string
	Type, InstanceFamily, Region       string // EC2Instance plans name a family and region
	PaymentOption, Currency            string
	Commitment, Upfront                string
	Start, End                         time.Time
	Term                               int64 // seconds
}

// Role is an assumable role. An empty ExternalID means the trust policy has no sts:ExternalId condition.
type Role struct {
	ExternalID string
}

// Region is what one account holds in one region.
type Region struct {
	ProvisionedProducts []ProvisionedProduct
	Artifacts           []ProvisioningArtifact
	Records             []Record
	Stacks              []Stack
	ReservedInstances   []ReservedInstance
	ReservedDBInstances []ReservedDBInstance
	Topics              []string // SNS topic names
	Buckets             []string // S3 bucket names, created in the shared in-process S3
	// EmailIdentities are the SES identities verified in the region: email addresses and domains. SES sends from an
	// address only when it or its domain is verified.
	EmailIdentities []string
	// SESProductionAccess says the account is out of the SES sandbox in the region; in the sandbox, where every
	// account starts, SES sends only to verified identities and the mailbox simulator.
	SESProductionAccess bool

	// Reservations are the reserved nodes and instances of the services that sell them by the node (ElastiCache,
	// OpenSearch, Redshift, MemoryDB), by service as the simulator names it: one field for all of them.
	Reservations map[string][]Reservation
}

type ProvisionedProduct struct {
	ID, Name, Type, Status, StatusMessage string
	ProductID, ProductName                string
	ArtifactID, ArtifactName              string
	LastRecordID                          string
	PhysicalID                            string
	// UserARN is who provisioned it. SearchProvisionedProducts without the Account access level filter returns only
	// the caller's own products, as AWS does.
	UserARN string
	Created time.Time
}

type ProvisioningArtifact struct {
	ProductID, ID, Name, Description string
	Created                          time.Time
}

type Record struct {
	ID, Type, Status, ProvisionedProductID, ProvisionedProductName string
	ProductID, ArtifactID                                          string
	Created, Updated                                               time.Time
	Errors                                                         []RecordError
}

type RecordError struct{ Code, Description string }

type Stack struct {
	Name, Status, Reason string
	// ID is the stack ARN; filled from the name when empty.
	ID               string
	ParentID, RootID string
	Created          time.Time
	Updated          time.Time
}

type ReservedInstance struct {
	ID, InstanceType, State, ProductDescription, Scope, AvailabilityZone string
	Tenancy, OfferingClass, OfferingType                                 string
	Count                                                                int
	Start, End                                                           time.Time
	Duration                                                             int64 // seconds
	// Price is one instance's: EC2 reports fixedPrice, usagePrice and recurringCharges per instance, as its offerings
	// do (DescribeReservedInstancesOfferings carries the same figures without a count).
	Price
}

type ReservedDBInstance struct {
	ID, OfferingID, Class, State, ProductDescription, OfferingType, LeaseID string
	Count                                                                   int
	MultiAZ                                                                 bool
	Start                                                                   time.Time
	Duration                                                                int // seconds
	// Price is one DB instance's ("the fixed price charged for this reserved DB instance").
	Price
}

// Price is what one unit (instance or node) of a reservation costs, as every reservation API reports it: per unit,
// never for the whole reservation, the same figures its offering carries. The demo's prices are illustrative: close to
// AWS's public list prices for the type, region and payment option, not quotes.
type Price struct {
	// FixedPrice is paid upfront for the term; UsagePrice is charged per hour. Current offerings report their hourly
	// charge as a recurring charge with UsagePrice 0; older ones (and some services' legacy types) in UsagePrice.
	FixedPrice, UsagePrice float64
	Recurring              []RecurringCharge
	// Currency is the ISO 4217 code the API reports, where it has a field for it; USD when empty.
	Currency string
}

// RecurringCharge is a charge at a frequency ("Hourly"), per unit.
type RecurringCharge struct {
	Amount    float64
	Frequency string
}

// Hourly is a Price with no upfront and one hourly recurring charge per unit: a No Upfront offering.
func Hourly(perHour float64) Price {
	return Price{Recurring: []RecurringCharge{{Amount: perHour, Frequency: "Hourly"}}}
}

// Upfront is a Price paid upfront per unit, with an hourly recurring charge when perHour is above 0: an All Upfront
// offering (perHour 0) or a Partial Upfront one.
func Upfront(fixed, perHour float64) Price {
	p := Price{FixedPrice: fixed}
	if perHour > 0 {
		p.Recurring = []RecurringCharge{{Amount: perHour, Frequency: "Hourly"}}
	}
	return p
}

// currency is the code the wire reports: USD unless the scenario says otherwise.
func (p Price) currency() string {
	if p.Currency == "" {
		return "USD"
	}
	return p.Currency
}

func (o *Organization) partition() string {
	if o.Partition == "" {
		return "aws"
	}
	return o.Partition
}

func (o *Organization) account(id string) *Account {
	for _, a := range o.Accounts {
		if a.ID == id {
			return a
		}
	}
	return nil
}

func (o *Organization) pageSize(requested int) int {
	n := o.PageSize
	if n <= 0 {
		n = 100
	}
	if requested > 0 && requested < n {
		n = requested
	}
	return n
}

// Reservation is a reserved node or instance of a service that reports StartTime and Duration (seconds), not an end:
// ElastiCache, OpenSearch, Redshift and MemoryDB share this shape, each naming the fields its own way on the wire.
type Reservation struct {
	ID, OfferingID string
	Name           string // OpenSearch's ReservationName
	Type           string // cache node, instance or node type
	Count          int
	Start          time.Time
	Duration       int // seconds
	State          string
	// ProductDescription is ElastiCache's engine ("redis"); OfferingType the payment option ("All Upfront").
	ProductDescription, OfferingType string
	// Price is one node's or instance's: each of these APIs reports its prices per unit ("the fixed price charged for
	// this reserved cache node", "... for this reserved node"), as their offerings do, beside the count. MemoryDB has
	// no UsagePrice field, ElastiCache and MemoryDB no currency: their wire leaves out what their model lacks.
	Price
	// Class is Redshift's ReservedNodeOfferingType: Regular or Upgradable.
	Class string
}
