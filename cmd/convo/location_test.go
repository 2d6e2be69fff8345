package main

import (
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/convokit/convo/mirror"
)

// secretParams are the libpq connection parameters whose values must
// never be printed: the password and every other credential, the files
// that hold or name credentials, the service that names them, the user.
var secretParams = []string{
	"user", "password", "passfile", "sslpassword", "sslkey", "sslcert", "sslrootcert", "sslcrl",
	"sslcrldir", "sslkeylogfile", "service", "servicefile", "options", "requirepeer", "krbsrvname",
	"oauth_issuer", "oauth_client_id", "oauth_client_secret", "oauth_scope",
}

// secretLocations returns, for each secret parameter, a PostgreSQL
// location in URL form and in key=value form that gives it a value (and a
// user-info password to the URL) at host and port, database inbox, with the
// value.
func secretLocations(host, port string) (locs []string, secrets []string) {
	for _, p := range secretParams {
		v := "S3cret-" + p + "-value"
		q := url.Values{p: {v}, "sslmode": {"disable"}, "connect_timeout": {"5"}}
		locs = append(locs,
			"postgres://app:pw-"+p+"@"+host+":"+port+"/inbox?"+q.Encode(),
			"postgresql://"+host+":"+port+"/inbox?"+q.Encode(),
			"host="+host+" port="+port+" dbname=inbox sslmode=disable connect_timeout=5 "+p+"='"+v+"'",
			"  host = "+host+"  port="+port+" "+p+"="+v+" dbname=inbox sslmode=disable",
		)
		secrets = append(secrets, v, "pw-"+p)
	}
	return locs, secrets
}

// A PostgreSQL location is printed as scheme, host, port and database
// name: never its user, password or any other parameter, in either form.
func TestDBLocationDisplay(t *testing.T) {
	t.Parallel()
	locs, secrets := secretLocations("db.internal", "5433")
	for _, loc := range locs {
		target := mustParseDB(t, loc)
		assert.Equal(t, mirror.PostgreSQL, target.dialect, loc)
		assert.Equal(t, loc, target.url, "the driver gets the location as given")
		want := "postgres://db.internal:5433/inbox"
		if strings.HasPrefix(loc, "postgresql:") {
			want = "postgresql://db.internal:5433/inbox"
		}
		assert.Equal(t, want, target.display, loc)
	}
	for loc, want := range map[string]string{
		"postgres://db.internal/inbox":                        "postgres://db.internal/inbox",
		"postgres:///inbox?host=/var/run/postgresql&user=app": "postgres:///var/run/postgresql/inbox",
		"postgres://h1:5432,h2:5433/inbox?password=pw":        "postgres://h1:5432,h2:5433/inbox",
		"host=/tmp dbname=inbox":                              "postgres:///tmp/inbox",
		"dbname=inbox":                                        "postgres:///inbox",
		`host=db password='it\'s a secret' dbname='my db'`:    "postgres://db/my%20db",
	} {
		target := mustParseDB(t, loc)
		assert.Equal(t, want, target.display, loc)
	}
	for _, s := range secrets {
		for _, loc := range locs {
			target, _ := parseDB(loc)
			assert.NotContains(t, target.display, s)
		}
	}
}

// Every message of a sync whose PostgreSQL location carries a secret, in
// URL or key=value form, is one line and holds none of it: a connection
// refused, and a parameter the driver cannot read (a missing sslkey, an
// unknown service). So does the resume hint.
func TestDBLocationSecretsNeverPrinted(t *testing.T) {
	t.Parallel()
	locs, secrets := secretLocations("127.0.0.1", "1")
	for _, loc := range locs {
		r := convoRun(t, nil, "sync", "--demo", "--provider", "rentalot", "--db", loc)
		assert.Contains(t, []int{1, 2}, r.code, "%s: %s", loc, r.stderr)
		assert.Empty(t, r.stdout)
		assert.Equal(t, 1, strings.Count(r.stderr, "\n"), "one line: %q", r.stderr)
		assert.Contains(t, r.stderr, "127.0.0.1:1/inbox", "the location is named")
		for _, s := range secrets {
			assert.NotContains(t, r.stderr, s, loc)
		}
		assert.NotContains(t, r.stderr, "app", "no user: %s", r.stderr)
	}
	for _, loc := range locs {
		hint := strings.Join(redactArgs([]string{"convo", "sync", "--db", loc, "--db=" + loc}), " ")
		for _, s := range secrets {
			assert.NotContains(t, hint, s)
		}
	}
	for _, args := range [][]string{
		{"convo", "sync", "--name", "a=b", "--db", "./in=box.db"},
		{"convo", "sync", "--name=password=x", "--db=inbox.db", "--status", "host=x"},
	} {
		assert.Equal(t, args, redactArgs(args), "nothing else changes")
	}
	assert.Equal(t, []string{"convo", "--base-url", "https://u:xxxxx@h/"}, redactArgs([]string{"convo", "--base-url", "https://u:hunter2@h/"}))
}

// The server's refusal (a role that does not exist) names neither the
// user nor anything else of the location.
func TestDBLocationServerErrorHasNoUser(t *testing.T) {
	t.Parallel()
	base := os.Getenv("CONVO_TEST_POSTGRES_URL")
	if base == "" {
		require.NotEqual(t, "true", os.Getenv("CI"), "CONVO_TEST_POSTGRES_URL is not set: CI must run the PostgreSQL tests (see .ci/run)")
		t.Log("not run: CONVO_TEST_POSTGRES_URL is not set")
		return
	}
	u, err := url.Parse(base)
	require.NoError(t, err)
	u.User = url.UserPassword("nosuchrole_x7", "pw-secret")
	r := convoRun(t, nil, "sync", "--demo", "--provider", "rentalot", "--db", u.String())
	assert.Equal(t, 1, r.code, r.stderr)
	assert.Contains(t, r.stderr, "cannot connect to PostgreSQL at postgres://"+u.Host+u.Path+":")
	assert.NotContains(t, r.stderr, "nosuchrole_x7")
	assert.NotContains(t, r.stderr, "pw-secret")
	assert.Equal(t, 1, strings.Count(r.stderr, "\n"), r.stderr)
}

// A libpq key=value connection string is PostgreSQL, never a file name;
// one that cannot be read is refused without a file made.
func TestDBKeyValueIsNeverAFile(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	for _, loc := range []string{
		"host=" + filepath.Join(dir, "nosuchdir") + " user=app password=hunter2 dbname=inbox connect_timeout=5",
		"host=127.0.0.1 port=1 user=app password=hunter2 dbname=inbox",
		"host=127.0.0.1 password='hunter2",
		"dbname=inbox host",
	} {
		target, err := parseDB(loc)
		if err == nil {
			assert.Equal(t, mirror.PostgreSQL, target.dialect, loc)
		}
		r := convoRun(t, nil, "sync", "--demo", "--provider", "rentalot", "--db", loc)
		assert.NotEqual(t, 0, r.code, loc)
		assert.NotContains(t, r.stderr, "hunter2")
		assert.NotContains(t, r.stderr, "SQLite")
		assert.NoFileExists(t, loc, "no file named as the string")
	}
	entries, err := os.ReadDir(".")
	require.NoError(t, err)
	for _, e := range entries {
		assert.NotContains(t, e.Name(), "=", "a file named as a connection string")
	}
}

// sqlite:PATH and file:PATH (and sqlite:///abs) are SQLite files at PATH;
// parameters, other hosts and empty paths are refused; a name with '='
// is a file when written ./NAME or sqlite:NAME.
func TestDBSQLiteLocations(t *testing.T) {
	t.Parallel()
	for loc, path := range map[string]string{
		"sqlite:inbox.db":               "inbox.db",
		"file:inbox.db":                 "inbox.db",
		"SQLite:inbox.db":               "inbox.db",
		"sqlite:///var/lib/inbox.db":    "/var/lib/inbox.db",
		"file:///var/lib/inbox.db":      "/var/lib/inbox.db",
		"file://localhost/var/inbox.db": "/var/inbox.db",
		"sqlite:a=b.db":                 "a=b.db",
		"./a=b.db":                      "./a=b.db",
		"inbox.db":                      "inbox.db",
		"C:inbox.db":                    "C:inbox.db",
		"/data/in box.db":               "/data/in box.db",
	} {
		target := mustParseDB(t, loc)
		assert.Equal(t, mirror.SQLite, target.dialect, loc)
		assert.Equal(t, path, target.path, loc)
	}
	for loc, msg := range map[string]string{
		"sqlite:inbox.db?mode=ro":  "takes no parameters",
		"file:///inbox.db?cache=1": "takes no parameters",
		"file://otherhost/inbox":   "is not a file",
		"sqlite:":                  "names no file",
		"":                         "must not be empty",
		"mysql://u:hunter2@h/db":   "mysql:// is not a database location",
	} {
		_, err := parseDB(loc)
		require.Error(t, err, loc)
		assert.Contains(t, err.Error(), msg, loc)
		assert.NotContains(t, err.Error(), "hunter2")
	}

	dir := t.TempDir()
	for _, loc := range []string{"sqlite:" + filepath.Join(dir, "a.db"), "file:" + filepath.Join(dir, "b.db")} {
		r := convoRun(t, nil, "sync", "--demo", "--provider", "rentalot", "--db", loc)
		require.Equal(t, 0, r.code, r.stderr)
		_, path, _ := strings.Cut(loc, ":")
		assert.FileExists(t, path)
	}
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	for _, e := range entries {
		assert.NotContains(t, e.Name(), ":", "a file named with its scheme")
	}
}

// mustParseDB is parseDB of a location it must accept.
func mustParseDB(t *testing.T, loc string) dbTarget {
	t.Helper()
	target, err := parseDB(loc)
	require.NoError(t, err, loc)
	return target
}
