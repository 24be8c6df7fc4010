// twilio-go (unmodified) against a live mockstudio, run by tests/test_go_sdk.py.
//
// Reads MOCKSTUDIO_URL, ACCOUNT_SID, AUTH_TOKEN and FLOW_SID, goes through the Executions API
// with twilio-go's Studio v2 client, and prints what it saw as one JSON object for the test to
// check. Any unexpected error exits 1 with the error on stderr.
package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"sync"
	"time"

	twilio "github.com/twilio/twilio-go/client"
	studio "github.com/twilio/twilio-go/rest/studio/v2"
)

// toMock sends what twilio-go addresses to studio.twilio.com to the mock instead (twilio-go has
// no way to change Studio's base URL), and records every URL it is asked for.
type toMock struct {
	mock *url.URL
	mu   sync.Mutex
	seen []string
}

func (t *toMock) RoundTrip(r *http.Request) (*http.Response, error) {
	t.mu.Lock()
	t.seen = append(t.seen, r.URL.String())
	t.mu.Unlock()
	if r.URL.Host == "studio.twilio.com" {
		r = r.Clone(r.Context())
		r.URL.Scheme, r.URL.Host, r.Host = t.mock.Scheme, t.mock.Host, t.mock.Host
	}
	return http.DefaultTransport.RoundTrip(r)
}

func (t *toMock) take() []string {
	t.mu.Lock()
	defer t.mu.Unlock()
	seen := t.seen
	t.seen = nil
	return seen
}

func service(transport *toMock, sid, token string) *studio.ApiService {
	c := &twilio.Client{Credentials: twilio.NewCredentials(sid, token), HTTPClient: &http.Client{Transport: transport}}
	c.SetAccountSid(sid)
	return studio.NewApiServiceWithClient(c)
}

func must(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

// control calls the mock's control plane directly (not part of Twilio's API).
// A nil form makes a GET.
func control(base, path string, form url.Values) map[string]interface{} {
	var resp *http.Response
	var err error
	if form == nil {
		resp, err = http.Get(base + path)
	} else {
		resp, err = http.PostForm(base+path, form)
	}
	must(err)
	defer resp.Body.Close()
	out := map[string]interface{}{}
	must(json.NewDecoder(resp.Body).Decode(&out))
	return out
}

func restError(err error) map[string]interface{} {
	var rest *twilio.TwilioRestError
	if !errors.As(err, &rest) {
		return map[string]interface{}{"unexpected": fmt.Sprint(err)}
	}
	return map[string]interface{}{
		"status": rest.Status, "code": rest.Code, "message": rest.Message, "details": rest.Details,
		"moreInfo": rest.MoreInfo,
	}
}

func sids(executions []studio.StudioV2Execution) []string {
	out := []string{}
	for _, e := range executions {
		out = append(out, *e.Sid)
	}
	return out
}

func create(api *studio.ApiService, flow, to string) *studio.StudioV2Execution {
	params := &studio.CreateExecutionParams{}
	params.SetTo(to).SetFrom("+15017122661").SetParameters(map[string]interface{}{"name": "Zeke"})
	execution, err := api.CreateExecution(flow, params)
	must(err)
	return execution
}

func main() {
	base := os.Getenv("MOCKSTUDIO_URL")
	sid, token, flow := os.Getenv("ACCOUNT_SID"), os.Getenv("AUTH_TOKEN"), os.Getenv("FLOW_SID")
	mock, err := url.Parse(base)
	must(err)
	transport := &toMock{mock: mock}
	api := service(transport, sid, token)
	out := map[string]interface{}{}

	// Three executions, an hour on the virtual clock, three more: the date filter splits them.
	var created []string
	for i := 0; i < 6; i++ {
		if i == 3 {
			control(base, "/_mockstudio/clock", url.Values{"advance": {"3600"}})
		}
		created = append(created, *create(api, flow, fmt.Sprintf("+1555000000%d", i)).Sid)
	}
	out["created"] = created
	transport.take()

	all, err := api.ListExecution(flow, (&studio.ListExecutionParams{}).SetPageSize(2))
	must(err)
	out["listed"] = sids(all)
	out["listRequests"] = transport.take()

	first, err := api.FetchExecution(flow, created[0])
	must(err)
	since := first.DateCreated.Add(30 * time.Minute)
	transport.take()
	recent, err := api.ListExecution(flow, (&studio.ListExecutionParams{}).SetDateCreatedFrom(since).SetPageSize(50))
	must(err)
	out["listedSince"] = sids(recent)
	out["sinceRequests"] = transport.take()

	// The execution the rest of the run follows.
	params := &studio.CreateExecutionParams{}
	params.SetTo("+15551234567").SetFrom("+15017122661").SetParameters(map[string]interface{}{"name": "Zeke"})
	withMeta, err := api.CreateExecutionWithMetadata(flow, params)
	must(err)
	execution := withMeta.GetResource()
	out["createdWithMetadata"] = map[string]interface{}{
		"statusCode": withMeta.GetStatusCode(), "contentType": withMeta.GetHeader("Content-Type"),
		"sid": *execution.Sid, "status": *execution.Status, "flowSid": *execution.FlowSid,
		"contactChannelAddress": *execution.ContactChannelAddress, "flowVersion": *execution.FlowVersion,
		"dateCreated": execution.DateCreated.UTC().Format(time.RFC3339), "url": *execution.Url,
		"links": *execution.Links,
	}
	_, err = api.CreateExecution(flow, params)
	out["conflict"] = restError(err)

	fetched, err := api.FetchExecution(flow, *execution.Sid)
	must(err)
	out["fetched"] = map[string]interface{}{"sid": *fetched.Sid, "status": *fetched.Status, "contactSid": *fetched.ContactSid}

	out["settled"] = control(base, "/_mockstudio/executions/"+*execution.Sid+"/settled", nil)
	context, err := api.FetchExecutionContext(flow, *execution.Sid)
	must(err)
	out["context"] = *context.Context
	steps, err := api.ListExecutionStep(flow, *execution.Sid, nil)
	must(err)
	var stepsOut []map[string]interface{}
	for _, step := range steps {
		stepContext, err := api.FetchExecutionStepContext(flow, *execution.Sid, *step.Sid)
		must(err)
		stepsOut = append(stepsOut, map[string]interface{}{
			"sid": *step.Sid, "name": *step.Name, "from": *step.TransitionedFrom, "to": *step.TransitionedTo,
			"context": *stepContext.Context,
		})
	}
	out["steps"] = stepsOut

	ended := "ended"
	updated, err := api.UpdateExecution(flow, *execution.Sid, &studio.UpdateExecutionParams{Status: &ended})
	must(err)
	out["ended"] = map[string]interface{}{"sid": *updated.Sid, "status": *updated.Status}
	_, err = api.UpdateExecution(flow, *execution.Sid, &studio.UpdateExecutionParams{Status: &ended})
	out["endedAgain"] = restError(err)

	must(api.DeleteExecution(flow, *execution.Sid))
	_, err = api.FetchExecution(flow, *execution.Sid)
	out["afterDelete"] = restError(err)

	_, err = service(transport, sid, "wrongtoken").FetchExecution(flow, created[0])
	out["unauthorized"] = restError(err)
	out["hosts"] = hosts(transport.take())

	encoded, err := json.Marshal(out)
	must(err)
	fmt.Println(string(encoded))
}

// hosts are the distinct hosts twilio-go addressed (as it addressed them, before the rewrite).
func hosts(urls []string) []string {
	seen := map[string]bool{}
	out := []string{}
	for _, raw := range urls {
		u, err := url.Parse(raw)
		must(err)
		if !seen[u.Host] {
			seen[u.Host] = true
			out = append(out, u.Host)
		}
	}
	return out
}
