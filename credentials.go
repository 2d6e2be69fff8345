package convo

import (
	"errors"
	"fmt"
	"slices"
)

// ErrNoCredentials is wrapped by [Provider.AuthFromEnv] when the
// environment holds none of the provider's credentials.
var ErrNoCredentials = errors.New("convo: no credentials")

// credentialSpec is how a provider's credentials are read from the
// environment: by a command, an example, or any program that follows the
// same convention.
type credentialSpec struct {
	env  []string // every variable read, in a fixed order
	help string   // which to set: "VANTAXAI_API_KEY"
	// auth builds the authenticator from the variables; nil when they do
	// not hold a complete credential.
	auth func(getenv func(string) string) Authenticator
}

// bearerEnv is the credential of a provider that takes one API key as a
// bearer token, read from the variable name.
func bearerEnv(name string) credentialSpec {
	return credentialSpec{
		env:  []string{name},
		help: name,
		auth: func(getenv func(string) string) Authenticator {
			if key := getenv(name); key != "" {
				return Bearer(key)
			}
			return nil
		},
	}
}

// CredentialEnv returns the names of the environment variables
// [Provider.AuthFromEnv] reads, in a fixed order; nil for the zero
// Provider.
func (p Provider) CredentialEnv() []string {
	if p.d == nil {
		return nil
	}
	return slices.Clone(p.d.credentials.env)
}

// CredentialHelp says which environment variables to set, for a help text
// or a message: "RENTALOT_API_KEY", "VOBIZ_AUTH_ID and VOBIZ_AUTH_TOKEN, or
// VOBIZ_TOKEN".
func (p Provider) CredentialHelp() string {
	if p.d == nil {
		return ""
	}
	return p.d.credentials.help
}

// AuthFromEnv returns the provider's [Authenticator] built from the
// environment variables of [Provider.CredentialEnv], read through getenv
// (os.Getenv, or a lookup of the caller's own). When they hold no complete
// credential the error wraps [ErrNoCredentials] and says which variables
// to set; it never holds a value read.
func (p Provider) AuthFromEnv(getenv func(string) string) (Authenticator, error) {
	if p.d == nil {
		return nil, fmt.Errorf("%w: zero Provider", ErrNoCredentials)
	}
	if a := p.d.credentials.auth(getenv); a != nil {
		return a, nil
	}
	return nil, fmt.Errorf("%w: %s: set %s", ErrNoCredentials, p.d.name, p.d.credentials.help)
}
