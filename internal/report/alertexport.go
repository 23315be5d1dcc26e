package report

// The event-driven alerts (internal/alert) render AWS text as digests do: these are the digest's own rules, exported
// so that there is one cleaner, one code span and one subject rule, not a copy in each renderer.

// Field is AWS text for one slot of a line: one line (Inline), cut to at most n bytes.
func Field(s string, n int) string { return field(s, n) }

// ChatCode is AWS text as an inline code span of a chat card, as the digest's card writes it.
func ChatCode(s string, n int) string { return chatCode(s, n) }

// ASCIILine is s as printable ASCII of at most n bytes: what SNS takes as a subject.
func ASCIILine(s string, n int) string { return asciiLine(Inline(s), n) }

// NewChat is a chat card of c, with the version, source and text type Amazon Q Developer in chat applications
// requires, and c's fields within the bounds the digest's card keeps.
func NewChat(c ChatContent) ChatNotification {
	c.TextType = chatTextType
	c.Title = truncateRunes(c.Title, maxChatTitle)
	c.Description = truncateRunes(c.Description, maxChatDescription)
	c.NextSteps = c.NextSteps[:min(len(c.NextSteps), maxChatNextSteps)]
	for i, s := range c.NextSteps {
		c.NextSteps[i] = truncateRunes(s, maxChatNextStep)
	}
	keep := c.Keywords[:0]
	for _, k := range c.Keywords {
		if k = truncateRunes(chatSafe.Replace(Inline(k)), maxChatKeyword); k != "" && len(keep) < maxChatKeywords {
			keep = append(keep, k)
		}
	}
	c.Keywords = keep
	return ChatNotification{Version: chatVersion, Source: chatSource, Content: c}
}

// MaxChatDescription is how long a card's description may be, in characters.
const MaxChatDescription = maxChatDescription
