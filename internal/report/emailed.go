package report

// Emailed is one email of a run, as the result reports it: to whom, and what became of it.
type Emailed struct {
	// Audience is organization (the whole digest to -email-to) or owner (an owner's accounts, to the owner).
	Audience string   `json:"audience"`
	Owner    string   `json:"owner,omitempty"`
	To       []string `json:"to"`
	// Outcome is sent, already_sent (another invocation of the run sent it) or failed. A live claim of another
	// invocation is waited out, never an outcome.
	Outcome   string `json:"outcome"`
	MessageID string `json:"message_id,omitempty"`
	// Attached says the workbook went with the email; NotAttached why not, when it did not.
	Attached    bool   `json:"attached"`
	NotAttached string `json:"not_attached,omitempty"`
	// Bytes is the message's size as SES counts it, base64-encoded.
	Bytes int    `json:"bytes,omitempty"`
	Error string `json:"error,omitempty"`
}

// Email outcomes. An email's audience is a digest's (AudienceOrganization, AudienceOwner).
const (
	EmailSent        = "sent"
	EmailAlreadySent = "already_sent"
	EmailFailed      = "failed"
)
