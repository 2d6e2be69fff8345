package examples_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/convokit/convo"
	"github.com/convokit/convo/convotest"
	"github.com/convokit/convo/internal/testenv"
	"github.com/convokit/convo/internal/testproc"
)

// The programs are run as a user runs them: built by the go command, with
// arguments and environment, against a fake server that this test holds,
// so that what they ask the server for is checked too. One test binary
// runs them all.

func TestMain(m *testing.M) {
	if err := testproc.Setup(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	code := m.Run()
	if built.dir != "" {
		os.RemoveAll(built.dir)
	}
	os.Exit(code)
}

// names are the example programs this package runs.
var names = []string{"agentmessage", "quickstart", "rentalot", "vantaxai", "vobiz"}

// built is the directory of the programs' executables, built once per
// test process into a temporary directory that TestMain removes: nothing
// is left behind, in the user's cache directory or elsewhere.
var built struct {
	once sync.Once
	dir  string
	err  error
}

// executable returns the path of example name's program.
func executable(t *testing.T, name string) string {
	t.Helper()
	built.once.Do(func() { built.dir, built.err = buildAll() })
	require.NoError(t, built.err)
	if runtime.GOOS == "windows" {
		name += ".exe"
	}
	return filepath.Join(built.dir, name)
}

// buildAll builds every example with one go build into a new temporary
// directory, which is also the go command's GOTMPDIR.
func buildAll() (string, error) {
	pkgs := make([]string, 0, len(names))
	for _, name := range names {
		// The sources are read here so that the go command's test cache
		// counts them among the inputs of these tests.
		files, err := filepath.Glob(filepath.Join(name, "*.go"))
		if err != nil || len(files) == 0 {
			return "", fmt.Errorf("example %s: no Go files (%v)", name, err)
		}
		for _, f := range files {
			if _, err := os.ReadFile(f); err != nil {
				return "", err
			}
		}
		pkgs = append(pkgs, "./"+name)
	}
	dir, err := buildDir()
	if err != nil {
		return "", err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	args := append([]string{"build", "-buildvcs=false", "-o", dir + string(filepath.Separator)}, pkgs...)
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Env = append(os.Environ(), "GOTMPDIR="+dir)
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build of the examples: %v\n%s", err, out)
	}
	return dir, nil
}

// buildDir makes the directory of this test process's executables.
func buildDir() (string, error) { return os.MkdirTemp("", "convo-examples-") }

// result is what a run of an example printed, and its exit status.
type result struct {
	stdout, stderr string
	code           int
}

// runExample runs example name with args, in this process's environment
// without any variable an example reads, plus vars.
func runExample(t *testing.T, name string, vars map[string]string, args ...string) result {
	t.Helper()
	exe := executable(t, name) // built first: the minute is the run's alone
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, exe, args...)
	cmd.Env = testenv.WithoutConvoVariables(os.Environ())
	for k, v := range vars {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	r := result{stdout: out.String(), stderr: errOut.String()}
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		r.code = exit.ExitCode()
	} else {
		require.NoError(t, err, "run %s", name)
	}
	return r
}

// against is the environment that points an example at srv, a fake of p,
// as at a real API: its credentials and CONVO_BASE_URL.
func against(srv *convotest.Server, p convo.Provider) map[string]string {
	vars := map[string]string{"CONVO_BASE_URL": srv.URL()}
	for k, v := range convotest.DemoEnv(p) {
		vars[k] = v
	}
	return vars
}

// succeeded checks that a run exited 0 and wrote nothing to stderr.
func succeeded(t *testing.T, r result) string {
	t.Helper()
	require.Equal(t, 0, r.code, "stderr: %s", r.stderr)
	assert.Empty(t, r.stderr)
	return r.stdout
}

// TestExamplesDemo runs each program with -demo, as the README does: each
// prints what it promises against its built-in fake and exits 0.
func TestExamplesDemo(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct{ name, want string }{
		{"quickstart", "Using the built-in fake vobiz server (no credentials needed)\n"},
		{"vobiz", "started"},
		{"vantaxai", "unread"},
		{"rentalot", "\nsearch \"bedroom\":\n"},
		{"agentmessage", " messages, last "},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			out := succeeded(t, runExample(t, tt.name, nil, "-demo"))
			assert.Contains(t, out, tt.want)
			assert.Greater(t, strings.Count(out, "\n"), 5, "a few lines at least:\n%s", out)
		})
	}
}

// TestVobizExample: every conversation, each with its latest five
// messages, newest first, one request each.
func TestVobizExample(t *testing.T) {
	t.Parallel()
	const latest = 5
	srv := convotest.New(t, convo.Vobiz)
	text := succeeded(t, runExample(t, "vobiz", against(srv, convo.Vobiz)))
	data := srv.Dataset()
	require.NotEmpty(t, data.Conversations)
	for _, c := range data.Conversations {
		assert.Contains(t, text, c.Conversation.ID+"  "+c.Conversation.Status)
		msgs := slices.Clone(c.Messages)
		slices.SortStableFunc(msgs, func(a, b convo.Message) int { return b.SentAt.Compare(a.SentAt) })
		var want []string
		for _, m := range msgs[:min(len(msgs), latest)] {
			want = append(want, fmt.Sprintf("    %s %-8s %-8s %s", m.SentAt.UTC().Format("01-02 15:04"), m.Direction, m.Type, m.Body))
		}
		block := text[strings.Index(text, c.Conversation.ID):]
		lines := strings.Split(block, "\n")[1:]
		assert.Equal(t, want, lines[:len(want)], "the latest %d of %s, newest first", latest, c.Conversation.ID)
		if len(lines) > len(want) && lines[len(want)] != "" {
			assert.False(t, strings.HasPrefix(lines[len(want)], "    "), "no sixth message for %s", c.Conversation.ID)
		}
	}
	messageRequests := 0
	for _, r := range srv.Requests() {
		assert.True(t, r.Authorized)
		if strings.HasSuffix(r.Path, "/messages") {
			messageRequests++
		}
	}
	assert.Equal(t, len(data.Conversations), messageRequests, "one message page per conversation")
}

// TestProviderExamplesNeedCredentials: a provider's program, without
// credentials or -demo, says which of its provider's variables to set, and
// exits 1 having printed nothing else.
func TestProviderExamplesNeedCredentials(t *testing.T) {
	t.Parallel()
	for _, p := range convo.Providers() {
		if !slices.Contains(names, p.Name()) {
			continue // a provider without a program of its own
		}
		t.Run(p.Name(), func(t *testing.T) {
			t.Parallel()
			r := runExample(t, p.Name(), nil)
			assert.Equal(t, 1, r.code)
			assert.Equal(t, p.Name()+": set "+p.CredentialHelp()+" (or pass -demo)\n", r.stderr)
			assert.Empty(t, r.stdout)
		})
	}
}

// TestVantaxAIExample: the open conversations only, each with all its
// messages, oldest first.
func TestVantaxAIExample(t *testing.T) {
	t.Parallel()
	srv := convotest.New(t, convo.VantaxAI)
	text := succeeded(t, runExample(t, "vantaxai", against(srv, convo.VantaxAI)))
	open := 0
	for _, c := range srv.Dataset().Conversations {
		head := fmt.Sprintf("%s  %-9s unread %-3d last %s UTC\n", c.Conversation.ID, c.Conversation.Channel,
			c.Conversation.UnreadCount, c.Conversation.LastMessageAt.UTC().Format("2006-01-02 15:04"))
		if c.Conversation.Status != "open" {
			assert.NotContains(t, text, c.Conversation.ID, "only open conversations")
			continue
		}
		open++
		require.Contains(t, text, head)
		var want strings.Builder
		want.WriteString(head)
		for _, m := range c.Messages {
			fmt.Fprintf(&want, "    %s %-8s %-7s %s\n", m.SentAt.UTC().Format("01-02 15:04"), m.Direction, m.SenderType, m.Body)
		}
		assert.Contains(t, text, want.String(), "every message of %s, oldest first", c.Conversation.ID)
	}
	assert.Positive(t, open, "the demo data has open conversations")
}

// TestRentalotExample: each active conversation with exactly its latest
// three messages, fetched with one request each, and the search results.
func TestRentalotExample(t *testing.T) {
	t.Parallel()
	srv := convotest.New(t, convo.Rentalot)
	text := succeeded(t, runExample(t, "rentalot", against(srv, convo.Rentalot), "bedroom"))

	active := 0
	for _, c := range srv.Dataset().Conversations {
		if c.Conversation.Status != "active" {
			assert.NotContains(t, text, c.Conversation.ID, "only active conversations")
			continue
		}
		active++
		assert.Contains(t, text, fmt.Sprintf("%s  %-9s %d messages\n", c.Conversation.ID, c.Conversation.Channel, c.Conversation.MessageCount))
		msgs := slices.Clone(c.Messages)
		slices.SortStableFunc(msgs, func(a, b convo.Message) int { return b.SentAt.Compare(a.SentAt) })
		for i, m := range msgs {
			line := fmt.Sprintf("    %s %-8s %s\n", m.SentAt.UTC().Format("01-02 15:04"), m.Direction, m.Body)
			if i < 3 {
				assert.Contains(t, text, line, "one of the latest three of %s", c.Conversation.ID)
			} else if m.Body != "" {
				assert.NotContains(t, text, line, "older than the latest three of %s", c.Conversation.ID)
			}
		}
	}
	require.Positive(t, active, "the demo data has active conversations")

	messageRequests := 0
	for _, r := range srv.Requests() {
		if strings.HasSuffix(r.Path, "/messages") {
			messageRequests++
			assert.Equal(t, "3", r.Query().Get("limit"))
		}
	}
	assert.Equal(t, active, messageRequests, "one message request per conversation, not the whole history")

	assert.Contains(t, text, "\nsearch \"bedroom\":\n")
	search := text[strings.Index(text, "\nsearch"):]
	assert.Greater(t, strings.Count(search, "\n"), 2, "search results are printed:\n%s", search)
}

// TestAgentMessageExampleWeek runs the example for the week before a day
// after the demo data's latest activity: the conversations of that week,
// with their messages.
func TestAgentMessageExampleWeek(t *testing.T) {
	t.Parallel()
	srv := convotest.New(t, convo.AgentMessage)
	data := srv.Dataset()
	var newest time.Time
	for _, c := range data.Conversations {
		if c.Conversation.LastMessageAt.After(newest) {
			newest = c.Conversation.LastMessageAt
		}
	}
	since := newest.Add(24 * time.Hour).Add(-7 * 24 * time.Hour).UTC()
	text := succeeded(t, runExample(t, "agentmessage", against(srv, convo.AgentMessage), "-since", since.Format(time.RFC3339)))
	require.True(t, strings.HasPrefix(text, "Conversations active since "+since.Format("2006-01-02 15:04")+" UTC:\n"), text)
	in, out := 0, 0
	for _, c := range data.Conversations {
		head := c.Conversation.PhoneNumber + " → " + c.Conversation.ContactNumber
		if c.Conversation.LastMessageAt.Before(since) {
			out++
			continue
		}
		in++
		assert.Contains(t, text, head)
	}
	assert.Positive(t, in)
	assert.Positive(t, out, "the week leaves some out")
	assert.Equal(t, in, strings.Count(text, " messages, last "), "one header per conversation of the week")
}

// TestAgentMessageExampleNothingRecent runs the example for a time after
// the demo data: it says nothing was active and shows the most recent
// ones, with their messages, instead of printing nothing.
func TestAgentMessageExampleNothingRecent(t *testing.T) {
	t.Parallel()
	const recent = 3
	srv := convotest.New(t, convo.AgentMessage)
	text := succeeded(t, runExample(t, "agentmessage", against(srv, convo.AgentMessage), "-since", "2029-12-25"))
	require.True(t, strings.HasPrefix(text, "No conversation active since 2029-12-25 00:00 UTC. The 3 most recent:\n"), text)
	assert.Equal(t, recent, strings.Count(text, " messages, last "))
	first := srv.Dataset().Conversations[0]
	assert.Contains(t, text, first.Conversation.PhoneNumber+" → "+first.Conversation.ContactNumber, "the newest first")
	assert.Greater(t, strings.Count(text, "\n    "), recent, "their messages too")
}

func TestAgentMessageExampleBadSince(t *testing.T) {
	t.Parallel()
	r := runExample(t, "agentmessage", nil, "-demo", "-since", "last tuesday")
	assert.Equal(t, 1, r.code)
	assert.Contains(t, r.stderr, `-since "last tuesday": want a date`)
	assert.Empty(t, r.stdout, "nothing is listed")
}

// quickstart clips text as the program does: on one line, at most 72
// characters.
func quickstartClip(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > 72 {
		return string(r[:71]) + "…"
	}
	return s
}

// TestQuickstartFake runs the program against the built-in fake of each
// provider: it names the fake, lists conversations, shows the latest
// messages of the first three, and searches where the provider can.
func TestQuickstartFake(t *testing.T) {
	t.Parallel()
	for _, p := range convo.Providers() {
		t.Run(p.Name(), func(t *testing.T) {
			t.Parallel()
			out := succeeded(t, runExample(t, "quickstart", nil, "-provider", p.Name()))
			lines := strings.Split(out, "\n")
			assert.Equal(t, "Using the built-in fake "+p.Name()+" server (no credentials needed)", lines[0])

			d := convotest.DemoDataset(p, convotest.DefaultSeed)
			for i, cd := range d.Conversations[:10] {
				assert.Contains(t, out, cd.Conversation.ID, "conversation %d listed", i)
			}
			assert.NotContains(t, out, d.Conversations[10].Conversation.ID, "at most 10 listed")
			assert.Equal(t, 3, strings.Count(out, "\nLatest "), "three conversations' messages")
			for _, cd := range d.Conversations[:3] {
				last := cd.Messages[len(cd.Messages)-1]
				want := last.Body
				if want == "" {
					want = "[" // a redacted or media message is described, not blank
				}
				assert.Contains(t, out, quickstartClip(want), "latest message of %s", cd.Conversation.ID)
				assert.Contains(t, out, last.SentAt.UTC().Format("2006-01-02 15:04"))
				assert.Contains(t, out, "  "+string(last.Direction)+" ")
			}
			assert.Contains(t, out, "TIME")
			assert.Contains(t, out, "DIRECTION")
			if p.Supports(convo.OpSearchMessages) {
				assert.Contains(t, out, `Search "bedroom":`)
				assert.Contains(t, out, "(5 results)")
			} else {
				assert.NotContains(t, out, "Search")
			}
		})
	}
}

func TestQuickstartDefaultsToVobiz(t *testing.T) {
	t.Parallel()
	out := succeeded(t, runExample(t, "quickstart", nil))
	assert.True(t, strings.HasPrefix(out, "Using the built-in fake vobiz server (no credentials needed)\n"))
}

func TestQuickstartSearchQueryFlag(t *testing.T) {
	t.Parallel()
	out := succeeded(t, runExample(t, "quickstart", nil, "-provider", "rentalot", "-query", "Showing"))
	assert.Contains(t, out, `Search "Showing":`)
	assert.Contains(t, out, "showing")
}

// TestQuickstartRealAPI runs the program in its real-API mode, pointed at
// a fake through CONVO_BASE_URL, with the provider's credential variables.
func TestQuickstartRealAPI(t *testing.T) {
	t.Parallel()
	type test struct {
		name string
		p    convo.Provider
		vars map[string]string
	}
	tests := []test{{"vobiz-jwt", convo.Vobiz, map[string]string{"VOBIZ_TOKEN": convotest.DemoVobizJWT}}}
	for _, p := range convo.Providers() {
		tests = append(tests, test{p.Name(), p, convotest.DemoEnv(p)})
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := convotest.New(t, tt.p)
			vars := map[string]string{
				"CONVO_PROVIDER": strings.ToUpper(tt.p.Name()[:1]) + tt.p.Name()[1:],
				"CONVO_BASE_URL": srv.URL(),
			}
			for k, v := range tt.vars {
				vars[k] = v
			}
			out := succeeded(t, runExample(t, "quickstart", vars))
			assert.True(t, strings.HasPrefix(out, "Using the real "+tt.p.Name()+" API at "+srv.URL()+"\n"), out)
			assert.Contains(t, out, srv.Dataset().Conversations[0].Conversation.ID)
			require.NotEmpty(t, srv.Requests())
			for _, r := range srv.Requests() {
				assert.True(t, r.Authorized)
				assert.Contains(t, r.Header.Get("User-Agent"), "convo-quickstart")
			}
		})
	}
}

// TestQuickstartProviderFlagWins checks that -provider beats
// CONVO_PROVIDER, and -demo the real API.
func TestQuickstartProviderFlagWins(t *testing.T) {
	t.Parallel()
	srv := convotest.New(t, convo.Rentalot)
	vars := map[string]string{"CONVO_PROVIDER": "vobiz", "RENTALOT_API_KEY": convotest.DemoRentalotKey, "CONVO_BASE_URL": srv.URL()}
	out := succeeded(t, runExample(t, "quickstart", vars, "-provider", "rentalot"))
	assert.True(t, strings.HasPrefix(out, "Using the real rentalot API at "+srv.URL()+"\n"), out)
	assert.NotEmpty(t, srv.Requests())

	srv.ResetRequests()
	out = succeeded(t, runExample(t, "quickstart", vars, "-provider", "agentmessage", "-demo"))
	assert.True(t, strings.HasPrefix(out, "Using the built-in fake agentmessage server"), out)
	assert.Empty(t, srv.Requests(), "-demo asks nothing of the real API")
}

func TestQuickstartErrors(t *testing.T) {
	t.Parallel()
	srv := convotest.New(t, convo.Rentalot)
	tests := []struct {
		name string
		args []string
		vars map[string]string
		want string
	}{
		{"unknown fake", []string{"-provider", "acme"}, nil, `unknown -provider "acme"`},
		{"unknown real", nil, map[string]string{"CONVO_PROVIDER": "acme"}, `unknown CONVO_PROVIDER "acme"`},
		{"missing key", nil, map[string]string{"CONVO_PROVIDER": "rentalot"}, "set RENTALOT_API_KEY"},
		{"missing key of the flag's provider", []string{"-provider", "vantaxai"}, map[string]string{"CONVO_PROVIDER": "rentalot", "RENTALOT_API_KEY": "ra_x"}, "set VANTAXAI_API_KEY"},
		{"missing vobiz token", nil, map[string]string{"CONVO_PROVIDER": "vobiz", "VOBIZ_AUTH_ID": "MA_X"}, "VOBIZ_AUTH_TOKEN"},
		{"bad base URL", nil, map[string]string{"CONVO_PROVIDER": "vantaxai", "VANTAXAI_API_KEY": "vx_live_x", "CONVO_BASE_URL": "ftp://x"}, "base URL"},
		{"wrong key", nil, map[string]string{"CONVO_PROVIDER": "rentalot", "RENTALOT_API_KEY": "ra_not-the-key", "CONVO_BASE_URL": srv.URL()}, "401"},
		{"bad flag", []string{"-nope"}, nil, "flag provided but not defined"},
		{"stray argument", []string{"extra"}, nil, "unexpected arguments: extra"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := runExample(t, "quickstart", tt.vars, tt.args...)
			assert.Equal(t, 1, r.code)
			assert.Contains(t, r.stderr, tt.want)
			assert.NotContains(t, r.stderr, "ra_not-the-key", "no credential in the message")
		})
	}
}

func TestQuickstartHelp(t *testing.T) {
	t.Parallel()
	r := runExample(t, "quickstart", nil, "-h")
	assert.Equal(t, 0, r.code)
	assert.Contains(t, r.stderr, "-provider")
	for _, p := range convo.Providers() {
		assert.Contains(t, r.stderr, p.Name()+" ", "the credentials of each provider")
		assert.Contains(t, r.stderr, " "+p.CredentialHelp()+"\n")
	}
}
