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
		for _, s := range secrets {
			assert.NotContains(t, target.display, s)
		}
	}
}

// Each form of location names its database: PostgreSQL's, in URL or
// key=value form, is printed as scheme, host, port and database name;
// sqlite:PATH and file:PATH (and sqlite:///abs) are SQLite files at PATH,
// and a name with '=' is a file when written ./NAME or sqlite:NAME;
// parameters, other hosts and empty paths are refused.
func TestParseDB(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		loc     string
		dialect mirror.Dialect // the zero Dialect: refused
		want    string         // PostgreSQL: what is printed of it; SQLite: the file; refused: what the error says
	}{
		{"postgres://db.internal/inbox", mirror.PostgreSQL, "postgres://db.internal/inbox"},
		{"postgres:///inbox?host=/var/run/postgresql&user=app", mirror.PostgreSQL, "postgres:///var/run/postgresql/inbox"},
		{"postgres://h1:5432,h2:5433/inbox?password=pw", mirror.PostgreSQL, "postgres://h1:5432,h2:5433/inbox"},
		{"host=/tmp dbname=inbox", mirror.PostgreSQL, "postgres:///tmp/inbox"},
		{"dbname=inbox", mirror.PostgreSQL, "postgres:///inbox"},
		{`host=db password='it\'s a secret' dbname='my db'`, mirror.PostgreSQL, "postgres://db/my%20db"},

		{"sqlite:inbox.db", mirror.SQLite, "inbox.db"},
		{"file:inbox.db", mirror.SQLite, "inbox.db"},
		{"SQLite:inbox.db", mirror.SQLite, "inbox.db"},
		{"sqlite:///var/lib/inbox.db", mirror.SQLite, "/var/lib/inbox.db"},
		{"file:///var/lib/inbox.db", mirror.SQLite, "/var/lib/inbox.db"},
		{"file://localhost/var/inbox.db", mirror.SQLite, "/var/inbox.db"},
		{"sqlite:a=b.db", mirror.SQLite, "a=b.db"},
		{"./a=b.db", mirror.SQLite, "./a=b.db"},
		{"inbox.db", mirror.SQLite, "inbox.db"},
		{"C:inbox.db", mirror.SQLite, "C:inbox.db"},
		{"/data/in box.db", mirror.SQLite, "/data/in box.db"},

		{"sqlite:inbox.db?mode=ro", mirror.Dialect{}, "takes no parameters"},
		{"file:///inbox.db?cache=1", mirror.Dialect{}, "takes no parameters"},
		{"file://otherhost/inbox", mirror.Dialect{}, "is not a file"},
		{"sqlite:", mirror.Dialect{}, "names no file"},
		{"", mirror.Dialect{}, "must not be empty"},
		{"mysql://u:hunter2@h/db", mirror.Dialect{}, "mysql:// is not a database location"},
	} {
		target, err := parseDB(tc.loc)
		if tc.dialect == (mirror.Dialect{}) {
			require.Error(t, err, tc.loc)
			assert.Contains(t, err.Error(), tc.want, tc.loc)
			assert.NotContains(t, err.Error(), "hunter2")
			continue
		}
		require.NoError(t, err, tc.loc)
		assert.Equal(t, tc.dialect, target.dialect, tc.loc)
		got := target.path
		if tc.dialect == mirror.PostgreSQL {
			got = target.display
		}
		assert.Equal(t, tc.want, got, tc.loc)
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

// A sync to sqlite:PATH or file:PATH makes the file at PATH, never one
// named with its scheme.
func TestDBSQLiteLocations(t *testing.T) {
	t.Parallel()
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
