package audit

import "testing"

func TestPortalLink(t *testing.T) {
	t.Parallel()
	const portal, role = "https://d-1234567890.awsapps.com/start/", "AuditReadOnly"
	ri := "https://us-east-1.console.aws.amazon.com/ec2/home?region=us-east-1#ReservedInstances:reservedInstancesId=ri-1"
	for _, c := range []struct {
		name, partition, account, console, want string
	}{
		// Worked by hand: the portal's trailing slash dropped, then every reserved character of the console URL
		// percent-encoded (: / ? = # to %3A %2F %3F %3D %23).
		{"regional console", "aws", "111122223333", ri,
			"https://d-1234567890.awsapps.com/start/#/console?account_id=111122223333&role_name=AuditReadOnly&destination=" +
				"https%3A%2F%2Fus-east-1.console.aws.amazon.com%2Fec2%2Fhome%3Fregion%3Dus-east-1%23ReservedInstances%3AreservedInstancesId%3Dri-1"},
		// A hostile resource id inside the console URL stays inside destination: its & and # are encoded.
		{"hostile text", "aws", "111122223333", "https://console.aws.amazon.com/x?id=a&role_name=Admin#y",
			"https://d-1234567890.awsapps.com/start/#/console?account_id=111122223333&role_name=AuditReadOnly&destination=" +
				"https%3A%2F%2Fconsole.aws.amazon.com%2Fx%3Fid%3Da%26role_name%3DAdmin%23y"},
		{"empty stays empty", "aws", "111122223333", "", ""},
		{"other partition's console", "aws-us-gov", "111122223333", ri, ri},
		{"GovCloud in GovCloud", "aws-us-gov", "111122223333", "https://console.amazonaws-us-gov.com/ec2/home",
			"https://d-1234567890.awsapps.com/start/#/console?account_id=111122223333&role_name=AuditReadOnly&destination=" +
				"https%3A%2F%2Fconsole.amazonaws-us-gov.com%2Fec2%2Fhome"},
		{"not https", "aws", "111122223333", "http://console.aws.amazon.com/ec2/home", "http://console.aws.amazon.com/ec2/home"},
		{"lookalike host", "aws", "111122223333", "https://console.aws.amazon.com.evil.example/x", "https://console.aws.amazon.com.evil.example/x"},
		{"malformed account", "aws", "1111&x=1", ri, ri},
	} {
		if got := portalLink(portal, role, c.partition, c.account, c.console); got != c.want {
			t.Errorf("%s:\n got %s\nwant %s", c.name, got, c.want)
		}
	}
}
