package main

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"slices"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/convokit/convo/mirror"
)

// A --db location is one of, in this order:
//
//	postgres://… or postgresql://…   a PostgreSQL URL
//	sqlite:PATH or file:PATH         a SQLite file (file:///abs/path too)
//	KEY=VALUE …                      a libpq key=value connection string
//	anything else                    a SQLite file's path
//
// A location is printed as its scheme, host, port and database name only
// (display): never its user, its password or any other parameter, which
// can be secrets (sslpassword, sslkey, passfile, service …). A SQLite file
// whose name has an '=' before any '/' is given as sqlite:NAME or ./NAME.

// dbTarget is a parsed --db.
type dbTarget struct {
	dialect mirror.Dialect
	path    string   // SQLite: the file
	url     string   // PostgreSQL: the location as given, for the driver
	display string   // for messages: the path, or scheme://host:port/dbname
	secrets []string // PostgreSQL: values never to print (user, password, files …)
}

// plainParams are the PostgreSQL connection parameters whose values are
// never secret, nor a file's path; every other parameter's value is kept
// out of messages.
var plainParams = []string{
	"host", "hostaddr", "port", "dbname", "database", "sslmode", "sslnegotiation", "sslcompression",
	"sslsni", "sslcertmode", "connect_timeout", "client_encoding", "application_name",
	"fallback_application_name", "keepalives", "keepalives_idle", "keepalives_interval",
	"keepalives_count", "tcp_user_timeout", "replication", "gssencmode", "channel_binding",
	"require_auth", "target_session_attrs", "load_balance_hosts", "min_protocol_version",
	"max_protocol_version", "ssl_min_protocol_version", "ssl_max_protocol_version",
	"gssdelegation", "gsslib", "requiressl", "statement_cache_capacity",
	"description_cache_capacity", "default_query_exec_mode", "min_read_buffer_size",
}

// parseDB tells a SQLite file from a PostgreSQL location, and refuses
// what is neither. Its errors never repeat the location's parameters.
func parseDB(s string) (dbTarget, error) {
	if s == "" || strings.TrimSpace(s) == "" {
		return dbTarget{}, usagef("--db must not be empty")
	}
	scheme, rest, hasScheme := strings.Cut(s, ":")
	if hasScheme && validScheme(scheme) {
		switch strings.ToLower(scheme) {
		case "postgres", "postgresql":
			return parsePostgresURL(s)
		case "sqlite", "file":
			return parseSQLiteURL(scheme, rest)
		}
		if strings.HasPrefix(rest, "//") {
			return dbTarget{}, usagef("--db: %s:// is not a database location convo knows: give a SQLite file (or sqlite:FILE) or a postgres:// URL", scheme)
		}
	}
	if isKeyValue(s) {
		return parseKeyValue(s)
	}
	return dbTarget{dialect: mirror.SQLite, path: s, display: s}, nil
}

// validScheme reports whether s is a URL scheme (RFC 3986), of more than
// one letter, so that a Windows drive (C:\…) is a path.
func validScheme(s string) bool {
	if len(s) < 2 {
		return false
	}
	for i, r := range s {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z':
		case i > 0 && (r >= '0' && r <= '9' || r == '+' || r == '-' || r == '.'):
		default:
			return false
		}
	}
	return true
}

// parseSQLiteURL reads sqlite:PATH and file:PATH (and their //-forms,
// sqlite:///abs/path): the file is PATH. Query parameters are refused:
// convo sets the SQLite options itself.
func parseSQLiteURL(scheme, rest string) (dbTarget, error) {
	path := rest
	if strings.HasPrefix(rest, "//") {
		u, err := url.Parse(scheme + ":" + rest)
		if err != nil || (u.Host != "" && u.Host != "localhost") || u.Path == "" {
			return dbTarget{}, usagef("--db: %s:%s is not a file: give %s:PATH or %s:///absolute/path", scheme, rest, scheme, scheme)
		}
		if u.RawQuery != "" || u.Fragment != "" {
			return dbTarget{}, usagef("--db: a SQLite location takes no parameters (%s:…?…)", scheme)
		}
		path = u.Path
	} else if strings.ContainsAny(rest, "?#") {
		return dbTarget{}, usagef("--db: a SQLite location takes no parameters (%s:…?…)", scheme)
	}
	if path == "" {
		return dbTarget{}, usagef("--db %s: names no file", scheme+":")
	}
	return dbTarget{dialect: mirror.SQLite, path: path, display: path}, nil
}

// parsePostgresURL reads a postgres:// URL.
func parsePostgresURL(s string) (dbTarget, error) {
	u, err := url.Parse(s)
	if err != nil {
		// url.Error repeats the URL, password and all; its cause alone
		// can quote a piece of it.
		return dbTarget{}, usagef("--db: not a valid postgres:// URL (check its user, password, host, port and the escaping of special characters)")
	}
	t := dbTarget{dialect: mirror.PostgreSQL, url: s}
	params := map[string]string{}
	for k, vs := range u.Query() {
		for _, v := range vs {
			params[k] = v
			t.addSecret(k, v)
		}
	}
	// The values as written (escaped) too, for the resume hint.
	for _, kv := range strings.Split(u.RawQuery, "&") {
		k, v, _ := strings.Cut(kv, "=")
		if uk, err := url.QueryUnescape(k); err == nil {
			t.addSecret(uk, v)
		}
	}
	if u.User != nil {
		t.secrets = append(t.secrets, u.User.Username())
		if pw, ok := u.User.Password(); ok {
			t.secrets = append(t.secrets, pw)
		}
		user, pw, _ := strings.Cut(u.User.String(), ":")
		t.secrets = append(t.secrets, user, pw)
	}
	host, port := u.Hostname(), u.Port()
	if host == "" {
		host = params["host"]
	}
	if port == "" {
		port = params["port"]
	}
	if host == "" && u.Host == "" {
		return dbTarget{}, usagef("--db: %s names no host", displayPostgres(u.Scheme, "", "", strings.TrimPrefix(u.Path, "/")))
	}
	if host == "" {
		host = u.Host // several hosts (h1:5432,h2:5432): as given
	}
	db := strings.TrimPrefix(u.Path, "/")
	if db == "" {
		db = params["dbname"]
	}
	t.display = displayPostgres(strings.ToLower(u.Scheme), host, port, db)
	return t, nil
}

// parseKeyValue reads a libpq key=value connection string.
func parseKeyValue(s string) (dbTarget, error) {
	params, err := keyValues(s)
	if err != nil {
		return dbTarget{}, usagef("--db: not a valid key=value connection string: %v", err)
	}
	t := dbTarget{dialect: mirror.PostgreSQL, url: s}
	for _, kv := range params {
		t.addSecret(kv[0], kv[1])
	}
	get := func(k string) string {
		for i := len(params) - 1; i >= 0; i-- {
			if params[i][0] == k {
				return params[i][1]
			}
		}
		return ""
	}
	host := get("host")
	if host == "" {
		host = get("hostaddr")
	}
	t.display = displayPostgres("postgres", host, get("port"), get("dbname"))
	return t, nil
}

// addSecret records the value of parameter k unless k is plain.
func (t *dbTarget) addSecret(k, v string) {
	if !slices.Contains(plainParams, strings.ToLower(k)) {
		t.secrets = append(t.secrets, v)
	}
}

// displayPostgres renders a PostgreSQL location from its scheme, host,
// port and database name alone.
func displayPostgres(scheme, host, port, db string) string {
	u := url.URL{Scheme: scheme, Host: host, Path: "/" + db}
	if port != "" {
		u.Host = host + ":" + port
	}
	if strings.HasPrefix(host, "/") || strings.Contains(host, ",") {
		// A socket directory or several hosts: the host as written.
		return scheme + "://" + host + portSuffix(port) + "/" + db
	}
	return u.String()
}

func portSuffix(port string) string {
	if port == "" {
		return ""
	}
	return ":" + port
}

// isKeyValue reports whether s is written as libpq's key=value pairs: it
// starts with a keyword (letters, digits, '_') and an '='.
func isKeyValue(s string) bool {
	s = strings.TrimLeft(s, " \t\n\r\v\f")
	key, _, ok := strings.Cut(s, "=")
	key = strings.TrimRight(key, " \t\n\r\v\f")
	if !ok || key == "" {
		return false
	}
	for _, r := range key {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_') {
			return false
		}
	}
	return true
}

// keyValues splits a libpq key=value string into its pairs, in order:
// values are bare (a backslash escapes the next character) or in single
// quotes, as libpq (and pgx) read them.
func keyValues(s string) ([][2]string, error) {
	const space = " \t\n\r\v\f"
	var out [][2]string
	for s = strings.TrimLeft(s, space); s != ""; s = strings.TrimLeft(s, space) {
		eq := strings.IndexByte(s, '=')
		if eq < 0 {
			return nil, errors.New("a keyword without '=' and value")
		}
		key := strings.TrimRight(s[:eq], space)
		if key == "" || strings.ContainsAny(key, space) {
			return nil, errors.New("a value without its keyword")
		}
		s = strings.TrimLeft(s[eq+1:], space)
		var val strings.Builder
		quoted := strings.HasPrefix(s, "'")
		if quoted {
			s = s[1:]
		}
		i := 0
		for ; i < len(s); i++ {
			c := s[i]
			if quoted && c == '\'' || !quoted && strings.IndexByte(space, c) >= 0 {
				break
			}
			if c == '\\' {
				i++
				if i == len(s) {
					return nil, errors.New("a backslash at the end")
				}
				c = s[i]
			}
			val.WriteByte(c)
		}
		if quoted && i == len(s) {
			return nil, errors.New("a quoted value without its closing quote")
		}
		out = append(out, [2]string{key, val.String()})
		s = s[min(i+1, len(s)):]
	}
	if len(out) == 0 {
		return nil, errors.New("no keyword")
	}
	return out, nil
}

// scrub removes from msg the location's secret values (of three bytes or
// more: a shorter one would also erase pieces of words).
func (t dbTarget) scrub(msg string) string {
	secrets := slices.Clone(t.secrets)
	// The longest first, so that a secret containing another goes whole.
	slices.SortFunc(secrets, func(a, b string) int { return len(b) - len(a) })
	for _, s := range secrets {
		if len(s) >= 3 {
			msg = strings.ReplaceAll(msg, s, "xxxxx")
		}
	}
	return msg
}

// pgError renders an error of the PostgreSQL driver in one line, without
// the connection parameters pgx's own messages repeat (its "failed to
// connect to `user=… database=…`" prefix, its "cannot parse `…`"): the
// network's error, the server's, or the cause of a parse failure.
func (t dbTarget) pgError(err error) string {
	var pe *pgconn.PgError
	var oe *net.OpError
	var ce *pgconn.ConnectError
	var pce *pgconn.ParseConfigError
	switch {
	case errors.As(err, &pe):
		msg := pe.Message
		if pe.Code != "" {
			msg += " (SQLSTATE " + pe.Code + ")"
		}
		err = errors.New(msg)
	case errors.As(err, &oe):
		err = oe
	case errors.As(err, &ce):
		if inner := errors.Unwrap(ce); inner != nil {
			err = inner
		}
	case errors.As(err, &pce):
		err = errors.New("not a valid PostgreSQL connection string")
		if inner := errors.Unwrap(pce); inner != nil {
			err = errors.New("not a valid PostgreSQL connection string: " + inner.Error())
		}
	}
	return oneLine(t.scrub(strings.TrimPrefix(err.Error(), "mirror: ")))
}

// connectError is the command's error for a failed connection to the
// PostgreSQL location: a usage error when the driver could not read the
// location's parameters (a file they name, a service), else a failure.
func (t dbTarget) connectError(err error) error {
	var pce *pgconn.ParseConfigError
	if errors.As(err, &pce) {
		return usagef("--db %s: %s", t.display, t.pgError(err))
	}
	return fmt.Errorf("cannot connect to PostgreSQL at %s: %s", t.display, t.pgError(err))
}

// oneLine joins the lines of msg with "; ".
func oneLine(msg string) string {
	lines := strings.FieldsFunc(msg, func(r rune) bool { return r == '\n' || r == '\r' })
	for i := range lines {
		lines[i] = strings.TrimSpace(lines[i])
	}
	return strings.Join(slices.DeleteFunc(lines, func(s string) bool { return s == "" }), "; ")
}

// redactArgs returns the command line args with the secrets of its --db
// location replaced, and the password of any other URL, for the resume
// hint (give PostgreSQL's password in PGPASSWORD or ~/.pgpass to keep it
// off the command line).
func redactArgs(args []string) []string {
	out := slices.Clone(args)
	for i, a := range out {
		var loc string
		switch {
		case i > 0 && out[i-1] == "--db":
			loc = a
		case strings.HasPrefix(a, "--db="):
			loc = strings.TrimPrefix(a, "--db=")
		default:
			if u, err := url.Parse(a); err == nil && u.User != nil {
				out[i] = u.Redacted()
			}
			continue
		}
		if t, err := parseDB(loc); err == nil && t.dialect == mirror.PostgreSQL {
			out[i] = strings.Replace(a, loc, t.scrub(loc), 1)
		}
	}
	return out
}
