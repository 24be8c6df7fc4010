// The Go programs the tests run (tests/test_go_sdk.py, tests/test_readme.py). The tests build them
// offline against a trimmed copy of twilio-go beside the repository, writing their own go.mod with
// its absolute path; this one lets you do the same by hand from here:
//   GOFLAGS=-mod=mod GOPROXY=off GOSUMDB=off go run ./e2e
module mockstudio.test/gosdk

go 1.19

require (
	github.com/pkg/errors v0.9.1 // indirect
	github.com/twilio/twilio-go v0.0.0
)

replace github.com/twilio/twilio-go => ../../../shared/vendor/go/twilio-go

replace github.com/pkg/errors => ../../../shared/vendor/go/errors
