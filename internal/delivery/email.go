package delivery

import (
	"context"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	sestypes "github.com/aws/aws-sdk-go-v2/service/sesv2/types"
)

// EmailActions are what sending a raw email through the SES v2 API needs on the sending identity: the operation's
// own ses:SendEmail, and ses:SendRawEmail, which SES checks for raw content.
var EmailActions = []string{"ses:SendEmail", "ses:SendRawEmail"}

// MaxEmailBytes is the most a message may weigh as it travels to SES, base64-encoded: SES's v2 API takes "40 MB per
// message (after base64 encoding)" (https://docs.aws.amazon.com/ses/latest/dg/quotas.html). Read in decimal megabytes,
// the stricter of the two readings, so the message passes whichever SES means.
const MaxEmailBytes = 40_000_000

// MaxEmailRecipients is SES's limit on the recipients of one message (To, CC and BCC together).
const MaxEmailRecipients = 50

// EmailSender is the one SES v2 call delivery makes.
type EmailSender interface {
	SendEmail(context.Context, *sesv2.SendEmailInput, ...func(*sesv2.Options)) (*sesv2.SendEmailOutput, error)
}

// SendEmail hands a raw MIME message to SES for the recipients given and returns SES's message id. The recipients
// are named apart from the message's headers, so what the headers say is only what readers see.
func SendEmail(ctx context.Context, api EmailSender, from string, to []string, raw []byte) (string, error) {
	out, err := api.SendEmail(ctx, &sesv2.SendEmailInput{
		FromEmailAddress: aws.String(from),
		Destination:      &sestypes.Destination{ToAddresses: to},
		Content:          &sestypes.EmailContent{Raw: &sestypes.RawMessage{Data: raw}},
	})
	if err != nil {
		return "", fmt.Errorf("email %s through SES: %w", strings.Join(to, ", "), err)
	}
	return aws.ToString(out.MessageId), nil
}
