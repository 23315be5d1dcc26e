package audit

// ReadEmailForTest is readEmail for the package's external tests.
var ReadEmailForTest = readEmail
