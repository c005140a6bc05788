package email

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/mail"
	"net/textproto"
	"strings"
	"time"

	"github.com/councilforms/idp/factors"
)

// checkEmail refuses a message that could not be sent safely: a recipient that is not
// one address, or header values that would smuggle in more headers.
func checkEmail(m factors.Email) (*mail.Address, error) {
	if strings.ContainsAny(m.To, "\r\n") || strings.ContainsAny(m.Subject, "\r\n") {
		return nil, errors.New("line break in recipient or subject")
	}
	to, err := mail.ParseAddress(m.To)
	if err != nil {
		return nil, fmt.Errorf("recipient is not an email address: %w", err)
	}
	if strings.TrimSpace(m.Subject) == "" || (m.Text == "" && m.HTML == "") {
		return nil, errors.New("subject and a body are required")
	}
	return to, nil
}

// buildMessage renders m as an RFC 5322 message: multipart/alternative with a
// plain-text then an HTML part (the last part is the preferred one), or plain text
// alone when there is no HTML. Bodies are quoted-printable UTF-8.
func buildMessage(from, to *mail.Address, m factors.Email, now time.Time) ([]byte, error) {
	var b bytes.Buffer
	idBytes := make([]byte, 16)
	if _, err := rand.Read(idBytes); err != nil {
		return nil, err
	}
	domain := "localhost"
	if at := strings.LastIndexByte(from.Address, '@'); at >= 0 {
		domain = from.Address[at+1:]
	}
	header := []struct{ k, v string }{
		{"From", from.String()},
		{"To", to.String()},
		{"Subject", mime.QEncoding.Encode("utf-8", m.Subject)},
		{"Date", now.Format(time.RFC1123Z)},
		{"Message-ID", "<" + hex.EncodeToString(idBytes) + "@" + domain + ">"},
		{"MIME-Version", "1.0"},
		// RFC 3834: an automatic message, so out-of-office replies are not sent back.
		{"Auto-Submitted", "auto-generated"},
	}
	for _, h := range header {
		fmt.Fprintf(&b, "%s: %s\r\n", h.k, h.v)
	}
	if m.HTML == "" {
		b.WriteString("Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n")
		if err := writeQP(&b, m.Text); err != nil {
			return nil, err
		}
		return b.Bytes(), nil
	}
	mw := multipart.NewWriter(&b)
	fmt.Fprintf(&b, "Content-Type: multipart/alternative; boundary=%q\r\n\r\n", mw.Boundary())
	text := m.Text
	if text == "" {
		text = "This message is best read in an email program that shows HTML."
	}
	for _, part := range []struct{ ctype, body string }{
		{"text/plain; charset=utf-8", text},
		{"text/html; charset=utf-8", m.HTML},
	} {
		pw, err := mw.CreatePart(textproto.MIMEHeader{
			"Content-Type":              {part.ctype},
			"Content-Transfer-Encoding": {"quoted-printable"},
		})
		if err != nil {
			return nil, err
		}
		if err := writeQP(pw, part.body); err != nil {
			return nil, err
		}
	}
	if err := mw.Close(); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

type writer interface{ Write([]byte) (int, error) }

func writeQP(w writer, body string) error {
	qp := quotedprintable.NewWriter(w)
	// Normalise line endings: SMTP wants CRLF, and quotedprintable keeps CRLF as hard breaks.
	body = strings.ReplaceAll(strings.ReplaceAll(body, "\r\n", "\n"), "\n", "\r\n")
	if _, err := qp.Write([]byte(body)); err != nil {
		return err
	}
	return qp.Close()
}
