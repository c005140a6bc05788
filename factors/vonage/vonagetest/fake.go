package vonagetest

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/councilforms/idp/factors/vonage"
)

// Fake is a fake Vonage account with one application.
type Fake struct {
	URL             string // base of both the REST and the API hosts
	APIKey          string
	APISecret       string
	ApplicationID   string
	SignatureSecret string
	PrivateKeyPEM   []byte // the application's key, PKCS#8 as the dashboard issues it

	server *httptest.Server
	public *rsa.PublicKey
	client *http.Client

	mu         sync.Mutex
	smsStatus  map[string]string // destination digits -> status to answer
	callStatus map[string]int    // destination digits -> HTTP status to answer
	sms        []SMS
	calls      []*Call
	problems   []string // requests a real API would have refused
	seenJTI    map[string]bool
}

// SMS is one message the fake accepted or refused.
type SMS struct {
	From, To, Text, ClientRef, Type string
	Status                          string // what the fake answered
	MessageID                       string
}

// Call is one call the fake was asked to place.
type Call struct {
	UUID             string
	To               string // digits
	From             string // digits, empty with RandomFromNumber
	RandomFromNumber bool
	Script           string
	TalkLoop         int
	InputURL         string // the input action's eventUrl
	EventURL         string // the call's event_url
	RingingTimer     int
}

// New starts a fake and stops it when the test ends.
func New(t testing.TB) *Fake {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatalf("vonagetest: generate key: %v", err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatalf("vonagetest: marshal key: %v", err)
	}
	f := &Fake{
		APIKey:          "abcd1234",
		APISecret:       "fake-api-secret-" + randHex(8),
		ApplicationID:   "aaaaaaaa-bbbb-4ccc-8ddd-" + randHex(6),
		SignatureSecret: "fake-signature-secret-" + randHex(16),
		PrivateKeyPEM:   pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}),
		public:          &key.PublicKey,
		client:          &http.Client{Timeout: 10 * time.Second},
		smsStatus:       map[string]string{},
		callStatus:      map[string]int{},
		seenJTI:         map[string]bool{},
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/sms/json", f.serveSMS)
	mux.HandleFunc("/v1/calls", f.serveCalls)
	f.server = httptest.NewServer(mux)
	f.URL = f.server.URL
	t.Cleanup(f.server.Close)
	return f
}

// Config is a client configuration for this fake; eventBaseURL is the server under
// test (its webhooks), from is the sender.
func (f *Fake) Config(eventBaseURL, from string) vonage.Config {
	return vonage.Config{
		APIKey: f.APIKey, APISecret: f.APISecret, ApplicationID: f.ApplicationID,
		PrivateKeyPEM: f.PrivateKeyPEM, SignatureSecret: f.SignatureSecret, From: from,
		RestURL: f.URL, APIURL: f.URL, EventBaseURL: eventBaseURL,
	}
}

// SetSMSStatus makes the SMS API answer messages to number (E.164, + optional) with
// status (e.g. "9" no credit, "7" barred); "0" or "" restores acceptance.
func (f *Fake) SetSMSStatus(number, status string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.smsStatus[strings.TrimPrefix(number, "+")] = status
}

// SetCallStatus makes the Voice API answer calls to number with an HTTP error status
// (e.g. 402, 401, 500); 0 restores acceptance.
func (f *Fake) SetCallStatus(number string, status int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.callStatus[strings.TrimPrefix(number, "+")] = status
}

// SentSMS returns the messages the SMS API was asked to send, oldest first.
func (f *Fake) SentSMS() []SMS {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]SMS(nil), f.sms...)
}

// Calls returns the calls that were placed (201), oldest first.
func (f *Fake) Calls() []Call {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make([]Call, len(f.calls))
	for i, c := range f.calls {
		out[i] = *c
	}
	return out
}

// Problems lists requests the real API would have refused, and why. A correct client
// leaves it empty.
func (f *Fake) Problems() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.problems...)
}

func (f *Fake) problem(format string, args ...any) string {
	p := fmt.Sprintf(format, args...)
	f.mu.Lock()
	f.problems = append(f.problems, p)
	f.mu.Unlock()
	return p
}

// smsErrorTexts are the API's error-text for each status the fake can answer.
var smsErrorTexts = map[string]string{
	"1": "Throttled", "2": "Missing to param", "3": "Invalid to param", "4": "Bad Credentials",
	"5": "Internal Error", "6": "Invalid Message", "7": "Number barred.", "8": "Partner account barred.",
	"9": "Partner quota exceeded.", "12": "Message too long", "15": "Illegal Sender Address - rejected",
	"29": "Non-Whitelisted Destination", "33": "Number de-activated",
}

func smsRefusal(w http.ResponseWriter, status string) {
	writeJSON(w, http.StatusOK, map[string]any{
		"message-count": "1",
		"messages":      []map[string]string{{"status": status, "error-text": smsErrorTexts[status]}},
	})
}

func (f *Fake) serveSMS(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		http.Error(w, f.problem("sms: method %s", r.Method), http.StatusMethodNotAllowed)
		return
	}
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/x-www-form-urlencoded") {
		smsRefusal(w, "2")
		f.problem("sms: content type %q", ct)
		return
	}
	if err := r.ParseForm(); err != nil {
		smsRefusal(w, "2")
		f.problem("sms: form: %v", err)
		return
	}
	if len(r.URL.Query()) > 0 {
		f.problem("sms: parameters in the query string (credentials would be logged)")
	}
	form := r.PostForm
	if !constantEqual(form.Get("api_key"), f.APIKey) || !constantEqual(form.Get("api_secret"), f.APISecret) {
		f.problem("sms: bad credentials")
		smsRefusal(w, "4")
		return
	}
	from, to, text, ref := form.Get("from"), form.Get("to"), form.Get("text"), form.Get("client-ref")
	switch {
	case from == "" || to == "" || text == "":
		f.problem("sms: missing from, to or text")
		smsRefusal(w, "2")
		return
	case !allDigits(to):
		f.problem("sms: to %q is not digits only", to)
		smsRefusal(w, "3")
		return
	case len(ref) > 40:
		f.problem("sms: client-ref longer than 40")
		smsRefusal(w, "3")
		return
	case form.Get("type") != "" && form.Get("type") != "text" && form.Get("type") != "unicode":
		f.problem("sms: type %q", form.Get("type"))
		smsRefusal(w, "3")
		return
	}
	f.mu.Lock()
	status := f.smsStatus[to]
	if status == "" {
		status = "0"
	}
	msg := SMS{From: from, To: to, Text: text, ClientRef: ref, Type: form.Get("type"), Status: status}
	if status == "0" {
		msg.MessageID = strings.ToUpper(randHex(8))
	}
	f.sms = append(f.sms, msg)
	f.mu.Unlock()
	if status != "0" {
		smsRefusal(w, status)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"message-count": "1",
		"messages": []map[string]string{{
			"to": to, "message-id": msg.MessageID, "status": "0", "remaining-balance": "3.14159265",
			"message-price": "0.03330000", "network": "23410", "client-ref": ref,
		}},
	})
}

// problemJSON answers as the Voice API does, with RFC 7807 problem details.
func (f *Fake) problemJSON(w http.ResponseWriter, status int, title, detail string) {
	f.problem("voice: %d %s: %s", status, title, detail)
	writeJSON(w, status, map[string]string{"type": "https://developer.nexmo.com/api-errors", "title": title, "detail": detail})
}

// Wire shapes the fake decodes strictly.
type (
	endpoint struct {
		Type   string `json:"type"`
		Number string `json:"number"`
	}
	callBody struct {
		To               []endpoint        `json:"to"`
		From             *endpoint         `json:"from"`
		RandomFromNumber bool              `json:"random_from_number"`
		NCCO             []json.RawMessage `json:"ncco"`
		EventURL         []string          `json:"event_url"`
		EventMethod      string            `json:"event_method"`
		RingingTimer     *int              `json:"ringing_timer"`
		AnswerURL        []string          `json:"answer_url"`
	}
	nccoAction struct {
		Action   string   `json:"action"`
		Text     string   `json:"text"`
		Language string   `json:"language"`
		Loop     int      `json:"loop"`
		BargeIn  bool     `json:"bargeIn"`
		Type     []string `json:"type"`
		DTMF     *struct {
			MaxDigits    *int  `json:"maxDigits"`
			SubmitOnHash *bool `json:"submitOnHash"`
			TimeOut      *int  `json:"timeOut"`
		} `json:"dtmf"`
		EventURL    []string `json:"eventUrl"`
		EventMethod string   `json:"eventMethod"`
	}
)

func (f *Fake) serveCalls(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		f.problemJSON(w, http.StatusMethodNotAllowed, "Method not allowed", r.Method)
		return
	}
	if detail := f.checkAPIToken(r.Header.Get("Authorization")); detail != "" {
		f.problemJSON(w, http.StatusUnauthorized, "Invalid Token", detail)
		return
	}
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		f.problemJSON(w, http.StatusUnsupportedMediaType, "Unsupported Media Type", ct)
		return
	}
	raw, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	var b callBody
	if err := dec.Decode(&b); err != nil {
		f.problemJSON(w, http.StatusBadRequest, "Bad Request", "body: "+err.Error())
		return
	}
	call, detail := f.checkCallBody(b)
	if detail != "" {
		f.problemJSON(w, http.StatusBadRequest, "Bad Request", detail)
		return
	}
	f.mu.Lock()
	status := f.callStatus[call.To]
	f.mu.Unlock()
	switch status {
	case 0:
	case http.StatusPaymentRequired:
		writeJSON(w, status, map[string]string{"title": "Low balance", "detail": "This request could not be performed due to your account balance being low."})
		return
	default:
		writeJSON(w, status, map[string]string{"title": http.StatusText(status), "detail": "error chosen by the test"})
		return
	}
	call.UUID = uuid()
	f.mu.Lock()
	f.calls = append(f.calls, call)
	f.mu.Unlock()
	writeJSON(w, http.StatusCreated, map[string]string{
		"uuid": call.UUID, "status": "started", "direction": "outbound", "conversation_uuid": "CON-" + uuid(),
	})
}

// checkAPIToken verifies the application JWT as the Voice API does; it returns why
// it is refused, or "".
func (f *Fake) checkAPIToken(header string) string {
	raw, ok := strings.CutPrefix(header, "Bearer ")
	if !ok {
		return "no bearer token"
	}
	tok, err := jwt.ParseSigned(raw, []jose.SignatureAlgorithm{jose.RS256})
	if err != nil {
		return "token is not an RS256 JWT: " + err.Error()
	}
	if len(tok.Headers) != 1 || tok.Headers[0].Algorithm != string(jose.RS256) {
		return "header alg is not RS256"
	}
	if typ, _ := tok.Headers[0].ExtraHeaders[jose.HeaderType].(string); typ != "JWT" {
		return fmt.Sprintf("header typ is %q, want JWT", typ)
	}
	var cl struct {
		ApplicationID string           `json:"application_id"`
		IssuedAt      *jwt.NumericDate `json:"iat"`
		Expiry        *jwt.NumericDate `json:"exp"`
		ID            string           `json:"jti"`
	}
	if err := tok.Claims(f.public, &cl); err != nil {
		return "signature does not verify with the application's public key"
	}
	now := time.Now()
	switch {
	case cl.ApplicationID != f.ApplicationID:
		return "application_id is not this application"
	case cl.IssuedAt == nil || cl.IssuedAt.Time().After(now.Add(time.Minute)) || cl.IssuedAt.Time().Before(now.Add(-time.Hour)):
		return "iat missing or not fresh"
	case cl.Expiry == nil || !cl.Expiry.Time().After(now):
		return "exp missing or past"
	case cl.Expiry.Time().Sub(cl.IssuedAt.Time()) > 24*time.Hour:
		return "exp more than a day after iat"
	case cl.ID == "":
		return "jti missing"
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.seenJTI[cl.ID] {
		return "jti reused"
	}
	f.seenJTI[cl.ID] = true
	return ""
}

// checkCallBody checks a create-call body against the API reference.
func (f *Fake) checkCallBody(b callBody) (*Call, string) {
	c := &Call{}
	if len(b.To) != 1 || b.To[0].Type != "phone" || !allDigits(b.To[0].Number) {
		return nil, "to must be one {type: phone, number: digits}"
	}
	c.To = b.To[0].Number
	switch {
	case b.From != nil && b.RandomFromNumber:
		return nil, "from and random_from_number are exclusive"
	case b.From != nil:
		if b.From.Type != "phone" || !allDigits(b.From.Number) {
			return nil, "from must be {type: phone, number: digits}"
		}
		c.From = b.From.Number
	case b.RandomFromNumber:
		c.RandomFromNumber = true
	default:
		return nil, "from or random_from_number is required"
	}
	if len(b.AnswerURL) > 0 {
		return nil, "answer_url given with an inline ncco"
	}
	if len(b.EventURL) != 1 || !absoluteURL(b.EventURL[0]) {
		return nil, "event_url must be one absolute URL"
	}
	c.EventURL = b.EventURL[0]
	if b.EventMethod != "" && b.EventMethod != http.MethodPost {
		return nil, "event_method must be POST for this fake"
	}
	if b.RingingTimer != nil {
		if *b.RingingTimer < 1 || *b.RingingTimer > 120 {
			return nil, "ringing_timer out of 1..120"
		}
		c.RingingTimer = *b.RingingTimer
	}
	if len(b.NCCO) != 2 {
		return nil, "ncco must be a talk then an input"
	}
	var talk, input nccoAction
	for i, dst := range []*nccoAction{&talk, &input} {
		dec := json.NewDecoder(bytes.NewReader(b.NCCO[i]))
		dec.DisallowUnknownFields()
		if err := dec.Decode(dst); err != nil {
			return nil, fmt.Sprintf("ncco[%d]: %v", i, err)
		}
	}
	if talk.Action != "talk" || talk.Text == "" || len([]rune(talk.Text)) > 1500 {
		return nil, "ncco[0] must be a talk with 1..1500 characters of text"
	}
	if talk.Loop < 0 || talk.Loop > 10 {
		return nil, "talk loop out of range"
	}
	c.Script, c.TalkLoop = talk.Text, talk.Loop
	switch {
	case input.Action != "input":
		return nil, "ncco[1] must be an input"
	case len(input.Type) != 1 || input.Type[0] != "dtmf":
		return nil, `input type must be ["dtmf"]`
	case input.DTMF == nil || input.DTMF.MaxDigits == nil || *input.DTMF.MaxDigits != 1:
		return nil, "input dtmf.maxDigits must be 1"
	case input.DTMF.SubmitOnHash == nil || !*input.DTMF.SubmitOnHash:
		return nil, "input dtmf.submitOnHash must be true"
	case input.DTMF.TimeOut == nil || *input.DTMF.TimeOut < 1 || *input.DTMF.TimeOut > 10:
		return nil, "input dtmf.timeOut must be 1..10"
	case len(input.EventURL) != 1 || !absoluteURL(input.EventURL[0]):
		return nil, "input eventUrl must be one absolute URL"
	case input.EventMethod != "" && input.EventMethod != http.MethodPost:
		return nil, "input eventMethod must be POST for this fake"
	}
	c.InputURL = input.EventURL[0]
	return c, ""
}

// call finds the latest call to number (E.164, + optional).
func (f *Fake) call(number string) (*Call, error) {
	d := strings.TrimPrefix(number, "+")
	f.mu.Lock()
	defer f.mu.Unlock()
	for i := len(f.calls) - 1; i >= 0; i-- {
		if f.calls[i].To == d {
			c := *f.calls[i]
			return &c, nil
		}
	}
	return nil, fmt.Errorf("vonagetest: no call to %s", number)
}

// WebhookResponse is what the server under test answered to a webhook.
type WebhookResponse struct {
	Status int
	Body   []byte
}

// PressKeys plays the person answering the latest call to number and pressing digits
// (e.g. "#"), as Vonage reports it on the input eventUrl.
func (f *Fake) PressKeys(ctx context.Context, number, digits string) (WebhookResponse, error) {
	c, err := f.call(number)
	if err != nil {
		return WebhookResponse{}, err
	}
	return f.PostSigned(ctx, c.InputURL, f.inputBody(c, digits, false))
}

// PressHash presses the hash key on the latest call to number.
func (f *Fake) PressHash(ctx context.Context, number string) (WebhookResponse, error) {
	return f.PressKeys(ctx, number, "#")
}

// TimeOut plays the person answering the latest call to number and pressing nothing.
func (f *Fake) TimeOut(ctx context.Context, number string) (WebhookResponse, error) {
	c, err := f.call(number)
	if err != nil {
		return WebhookResponse{}, err
	}
	return f.PostSigned(ctx, c.InputURL, f.inputBody(c, "", true))
}

// Status posts a call status event (busy, unanswered, rejected, failed, completed...)
// for the latest call to number to its event_url.
func (f *Fake) Status(ctx context.Context, number, status, detail string) (WebhookResponse, error) {
	c, err := f.call(number)
	if err != nil {
		return WebhookResponse{}, err
	}
	ev := map[string]any{
		"status": status, "uuid": c.UUID, "conversation_uuid": "CON-" + c.UUID, "direction": "outbound",
		"from": c.From, "to": c.To, "timestamp": time.Now().UTC().Format(time.RFC3339Nano),
	}
	if detail != "" {
		ev["detail"] = detail
	}
	body, _ := json.Marshal(ev)
	return f.PostSigned(ctx, c.EventURL, body)
}

// Reject plays the person declining the latest call to number.
func (f *Fake) Reject(ctx context.Context, number string) (WebhookResponse, error) {
	return f.Status(ctx, number, "rejected", "declined")
}

func (f *Fake) inputBody(c *Call, digits string, timedOut bool) []byte {
	b, _ := json.Marshal(map[string]any{
		"speech":            map[string]any{"results": []any{}},
		"dtmf":              map[string]any{"digits": digits, "timed_out": timedOut},
		"from":              c.From,
		"to":                c.To,
		"uuid":              c.UUID,
		"conversation_uuid": "CON-" + c.UUID,
		"timestamp":         time.Now().UTC().Format(time.RFC3339Nano),
	})
	return b
}

// PostSigned posts body to url with a valid signed-webhook JWT.
func (f *Fake) PostSigned(ctx context.Context, url string, body []byte) (WebhookResponse, error) {
	return f.Post(ctx, url, body, f.Sign(body, nil))
}

// Post posts body to url with the given bearer token ("" for none).
func (f *Fake) Post(ctx context.Context, url string, body []byte, token string) (WebhookResponse, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return WebhookResponse{}, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "Vonage-Webhook/fake")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := f.client.Do(req)
	if err != nil {
		return WebhookResponse{}, err
	}
	defer resp.Body.Close()
	rb, _ := io.ReadAll(resp.Body)
	return WebhookResponse{Status: resp.StatusCode, Body: rb}, nil
}

// Sign makes the signed-webhook JWT Vonage would send with body: HS256 with the
// signature secret; claims iat, jti, iss, payload_hash, api_key, application_id.
// edit, when not nil, may change the claims first (to forge bad tokens in tests).
func (f *Fake) Sign(body []byte, edit func(claims map[string]any)) string {
	return SignWith(f.SignatureSecret, body, func(c map[string]any) {
		c["api_key"] = f.APIKey
		c["application_id"] = f.ApplicationID
		if edit != nil {
			edit(c)
		}
	})
}

// SignWith signs a webhook JWT for body with secret.
func SignWith(secret string, body []byte, edit func(claims map[string]any)) string {
	sum := sha256.Sum256(body)
	claims := map[string]any{
		"iat":          time.Now().Unix(),
		"jti":          uuid(),
		"iss":          "Vonage",
		"payload_hash": hex.EncodeToString(sum[:]),
	}
	if edit != nil {
		edit(claims)
	}
	header, _ := json.Marshal(map[string]string{"alg": "HS256", "typ": "JWT"})
	payload, err := json.Marshal(claims)
	if err != nil {
		panic(err)
	}
	signing := base64.RawURLEncoding.EncodeToString(header) + "." + base64.RawURLEncoding.EncodeToString(payload)
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(signing))
	return signing + "." + base64.RawURLEncoding.EncodeToString(mac.Sum(nil))
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func allDigits(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

func absoluteURL(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "https" || u.Scheme == "http") && u.Host != ""
}

func constantEqual(a, b string) bool {
	return len(a) == len(b) && a == b // test double: timing does not matter here
}

func randHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func uuid() string {
	h := randHex(16)
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}
