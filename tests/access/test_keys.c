/*
 * store/keys: public keys validated, installed with the forced command,
 * removed per user, other lines kept; store/access: collaborators.
 */
#define _GNU_SOURCE
#include "tests/helpers.h"

#include "access/access.h"
#include "store/app.h"
#include "util/error.h"
#include "util/fsutil.h"
#include "access/keys.h"

#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static char *sb, *file, *root;
static char *pub_a, *pub_b; /* the text of two generated .pub files */
static char *fp_a;          /* ssh-keygen -l's fingerprint of pub_a */

static char *keygen(const char *name, const char *comment)
{
	char *path = th_path("%s/%s", sb, name);
	struct th_result r = th_runv(NULL, NULL, "ssh-keygen", "-q", "-t", "ed25519", "-N", "",
				     "-C", comment, "-f", path, NULL);
	cr_assert_eq(r.status, 0, "ssh-keygen: %s", r.err);
	th_result_free(&r);
	char *pub = th_path("%s.pub", path);
	char *text = th_read(pub, NULL);
	free(pub);
	free(path);
	return text;
}

static void setup(void)
{
	sb = th_sandbox();
	file = th_path("%s/home/.ssh/authorized_keys", sb);
	root = th_path("%s/root", sb);
	pub_a = keygen("a", "alice@laptop");
	pub_b = keygen("b", "bob@desk");
	char *p = th_path("%s/a.pub", sb);
	struct th_result r = th_runv(NULL, NULL, "ssh-keygen", "-l", "-E", "sha256", "-f", p, NULL);
	cr_assert_eq(r.status, 0);
	char *sp = strchr(r.out, ' ');
	fp_a = strndup(sp + 1, strcspn(sp + 1, " "));
	th_result_free(&r);
	free(p);
}

static void teardown(void)
{
	th_sandbox_free(sb);
	free(file);
	free(root);
	free(pub_a);
	free(pub_b);
	free(fp_a);
}

TestSuite(keys, .init = setup, .fini = teardown);

static void add(const char *user, const char *text)
{
	struct ssh_key k = SSH_KEY_INIT;
	cr_assert_eq(key_parse(&k, text), 0, "%s", sw_error_last());
	struct keys_add_opts o = KEYS_ADD_OPTS_INIT;
	o.file = file;
	o.exe = "/usr/local/bin/slipway";
	o.root = "/home/git";
	cr_assert_eq(keys_add(&o, user, &k), 0, "%s", sw_error_last());
	key_release(&k);
}

Test(keys, parse_reads_type_blob_comment_and_fingerprint)
{
	struct ssh_key k = SSH_KEY_INIT;
	cr_assert_eq(key_parse(&k, pub_a), 0, "%s", sw_error_last());
	cr_assert_str_eq(k.type, "ssh-ed25519");
	cr_assert_str_eq(k.comment, "alice@laptop");
	cr_assert(!strncmp(pub_a + 12, k.blob, strlen(k.blob)));
	cr_assert_str_eq(k.fingerprint, fp_a);
	key_release(&k);
}

static void bad_key(const char *text, const char *msg)
{
	struct ssh_key k = SSH_KEY_INIT;
	cr_assert_eq(key_parse(&k, text), SW_EINVALID, "accepted: %s", text);
	cr_assert(strstr(sw_error_last(), msg), "'%s': got '%s'", text, sw_error_last());
	cr_assert_null(k.type);
	cr_assert_null(k.blob);
}

Test(keys, parse_refuses_what_is_not_one_public_key)
{
	bad_key("", "not a public key");
	bad_key("hello world", "not a public key: it must start with its type");
	char *opts = th_path("command=\"sh\" %s", pub_a);
	bad_key(opts, "not a public key");
	free(opts);
	char *two = th_path("%s%s", pub_a, pub_b);
	bad_key(two, "the key has more than one line");
	free(two);
	bad_key("ssh-ed25519 AAAA!!!! x", "invalid ssh-ed25519 key");
	bad_key("ssh-ed25519 AAAAB3NzaC1yc2EAAAADAQABAAABAQ== x", "invalid ssh-ed25519 key");
	bad_key("ssh-ed25519", "invalid ssh-ed25519 key");
	/* an rsa blob labelled ed25519 */
	char *swapped = th_path("ssh-rsa %s", pub_a + 12);
	bad_key(swapped, "invalid ssh-rsa key: its data is not a ssh-rsa public key");
	free(swapped);
	char *ctl = strdup(pub_a);
	ctl[strlen(ctl) - 3] = '\033';
	bad_key(ctl, "control characters");
	free(ctl);
}

Test(keys, add_writes_the_forced_command_and_keeps_other_lines)
{
	th_write(file, "# mine\nssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOperator op@host", 0600);
	add("alice@example.com", pub_a);
	char *text = th_read(file, NULL);
	struct ssh_key k = SSH_KEY_INIT;
	cr_assert_eq(key_parse(&k, pub_a), 0);
	char *want = th_path("# mine\nssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOperator op@host\n"
			     "restrict,pty,command=\"/usr/local/bin/slipway --root /home/git shell alice@example.com\" "
			     "ssh-ed25519 %s alice@laptop\n", k.blob);
	cr_assert_str_eq(text, want);
	struct stat st;
	cr_assert_eq(stat(file, &st), 0);
	cr_assert_eq(st.st_mode & 0777, 0600);
	free(want);
	free(text);
	key_release(&k);
}

/* path holds just the line forcing bob's key to "... --root /var/lib/slipway command". */
static void holds_control_line(const char *path, const char *command, const struct ssh_key *k)
{
	char *want = th_path("restrict,command=\"/usr/bin/slipway --root /var/lib/slipway %s\" "
			     "ssh-ed25519 %s bob@desk\n", command, k->blob);
	char *text = th_read(path, NULL);
	cr_assert_str_eq(text, want);
	free(text);
	free(want);
}

Test(keys, a_controls_key_runs_one_command_and_nothing_else)
{
	struct ssh_key k = SSH_KEY_INIT;
	struct keys_add_opts o = { .file = file, .exe = "/usr/bin/slipway",
				   .root = "/var/lib/slipway" };
	int added = -1;
	cr_assert_eq(key_parse(&k, pub_b), 0);
	cr_assert_eq(keys_allow_agent(&o, &k, &added), 0, "%s", sw_error_last());
	cr_assert_eq(added, 1);
	holds_control_line(file, "node-agent", &k);
	/* the same line again: nothing added */
	cr_assert_eq(keys_allow_agent(&o, &k, &added), 0, "%s", sw_error_last());
	cr_assert_eq(added, 0);
	/* the key forced to another command is refused, the file as it was */
	cr_assert_eq(keys_allow_standby(&o, &k, &added), SW_EEXISTS);
	cr_assert_eq(added, 0);
	holds_control_line(file, "node-agent", &k);
	/* on a server of its own, the standby's line */
	char *other = th_path("%s/standby/.ssh/authorized_keys", sb);
	o.file = other;
	cr_assert_eq(keys_allow_standby(&o, &k, &added), 0, "%s", sw_error_last());
	cr_assert_eq(added, 1);
	holds_control_line(other, "mirror-receive", &k);
	free(other);
	key_release(&k);
}

Test(keys, add_quotes_paths_and_refuses_unsafe_ones)
{
	struct ssh_key k = SSH_KEY_INIT;
	cr_assert_eq(key_parse(&k, pub_a), 0);
	struct keys_add_opts o = KEYS_ADD_OPTS_INIT;
	o.file = file;
	o.exe = "/opt/my tools/slipway";
	o.root = "/srv/git";
	cr_assert_eq(keys_add(&o, "alice", &k), 0, "%s", sw_error_last());
	char *text = th_read(file, NULL);
	static const char quoted[] =
		"restrict,pty,command=\"'/opt/my tools/slipway' --root /srv/git shell alice\" ssh-ed25519 ";
	cr_assert(!strncmp(text, quoted, strlen(quoted)), "%s", text);
	static const char *const bad[] = { "/srv/it's", "/srv/\"q\"", "/srv/a\\b", "/srv/a\nb", NULL };
	for (size_t i = 0; bad[i]; i++) {
		o.root = bad[i];
		cr_assert_eq(keys_add(&o, "bob", &k), SW_EINVALID, "%s", bad[i]);
		cr_assert(strstr(sw_error_last(), "cannot use the path"), "%s", sw_error_last());
	}
	o.root = "/srv/git";
	cr_assert_eq(keys_add(&o, "-rf", &k), SW_EINVALID);
	cr_assert(strstr(sw_error_last(), "invalid user name '-rf'"), "%s", sw_error_last());
	char *after = th_read(file, NULL);
	cr_assert_str_eq(after, text);
	free(after);
	free(text);
	key_release(&k);
}

static int collect(const char *user, const struct ssh_key *key, void *ctx)
{
	struct strvec *sv = ctx;
	strvec_pushf(sv, "%s %s %s", user, key->fingerprint, key->comment);
	return 0;
}

Test(keys, list_add_duplicate_and_remove)
{
	struct strvec seen = STRVEC_INIT;
	cr_assert_eq(keys_list(file, collect, &seen), 0); /* no file yet: no keys */
	cr_assert_eq(seen.n, 0);
	add("alice", pub_a);
	add("bob", pub_b);
	cr_assert_eq(keys_list(file, collect, &seen), 0);
	cr_assert_eq(seen.n, 2);
	char *want = th_path("alice %s alice@laptop", fp_a);
	cr_assert_str_eq(seen.v[0], want);
	free(want);
	cr_assert(!strncmp(seen.v[1], "bob SHA256:", 11));
	strvec_clear(&seen);

	/* the same key for another user: refused, file unchanged */
	char *before = th_read(file, NULL);
	struct ssh_key k = SSH_KEY_INIT;
	cr_assert_eq(key_parse(&k, pub_a), 0);
	struct keys_add_opts o = { file, "/usr/local/bin/slipway", "/home/git" };
	cr_assert_eq(keys_add(&o, "mallory", &k), SW_EEXISTS);
	cr_assert_str_eq(sw_error_last(),
		"this key is already installed for user 'alice' (remove it with: slipway keys:remove alice)");
	key_release(&k);
	char *after = th_read(file, NULL);
	cr_assert_str_eq(after, before);
	free(after);

	int n = -1;
	cr_assert_eq(keys_remove(file, "carol", &n), SW_ENOTFOUND);
	cr_assert_str_eq(sw_error_last(), "user 'carol' has no keys (see: slipway keys)");
	cr_assert_eq(n, 0);
	after = th_read(file, NULL);
	cr_assert_str_eq(after, before);
	free(after);

	cr_assert_eq(keys_remove(file, "alice", &n), 0, "%s", sw_error_last());
	cr_assert_eq(n, 1);
	cr_assert_eq(keys_list(file, collect, &seen), 0);
	cr_assert_eq(seen.n, 1);
	cr_assert(!strncmp(seen.v[0], "bob ", 4));
	strvec_clear(&seen);
	free(before);

	/* ~/.ssh holds only authorized_keys: no lock file of ours is left there */
	char *lock = th_path("%s.lock", file);
	cr_assert(!fs_exists(lock), "%s left behind", lock);
	/* and one an earlier version left goes with the next change */
	th_write(lock, "", 0644);
	add("alice", pub_a);
	cr_assert(!fs_exists(lock), "%s left behind", lock);
	free(lock);
	char *dir = th_path("%s/home/.ssh", sb);
	struct th_result r = th_runv(NULL, NULL, "ls", "-A", dir, NULL);
	cr_assert_str_eq(r.out, "authorized_keys\n");
	th_result_free(&r);
	free(dir);
}

Test(keys, remove_without_a_keys_directory_makes_none)
{
	char *dir = th_path("%s/home/.ssh", sb);
	int n = -1;
	cr_assert_eq(keys_remove(file, "alice", &n), SW_ENOTFOUND);
	cr_assert_str_eq(sw_error_last(), "user 'alice' has no keys (see: slipway keys)");
	cr_assert(!fs_exists(dir), "%s was made", dir);
	free(dir);
}

/* Lines written by earlier versions (the options spelled out) are still slipway's. */
Test(keys, lines_of_earlier_versions_are_listed_and_removed)
{
	struct ssh_key k = SSH_KEY_INIT;
	cr_assert_eq(key_parse(&k, pub_b), 0);
	char *old = th_path("command=\"/usr/local/bin/slipway --root /home/git shell bob\","
			    "no-port-forwarding,no-X11-forwarding,no-agent-forwarding,no-pty "
			    "ssh-ed25519 %s bob@desk\n", k.blob);
	th_write(file, old, 0600);
	add("alice", pub_a);
	struct strvec seen = STRVEC_INIT;
	cr_assert_eq(keys_list(file, collect, &seen), 0);
	cr_assert_eq(seen.n, 2);
	cr_assert(!strncmp(seen.v[0], "bob SHA256:", 11), "%s", seen.v[0]);
	cr_assert(!strncmp(seen.v[1], "alice SHA256:", 13), "%s", seen.v[1]);
	strvec_clear(&seen);

	/* its key cannot be installed again for someone else */
	struct keys_add_opts o = { file, "/usr/local/bin/slipway", "/home/git" };
	cr_assert_eq(keys_add(&o, "mallory", &k), SW_EEXISTS);
	cr_assert_str_eq(sw_error_last(),
		"this key is already installed for user 'bob' (remove it with: slipway keys:remove bob)");

	int n = 0;
	cr_assert_eq(keys_remove(file, "bob", &n), 0, "%s", sw_error_last());
	cr_assert_eq(n, 1);
	char *text = th_read(file, NULL);
	cr_assert(!strncmp(text, "restrict,pty,command=", 21), "%s", text);
	cr_assert_null(strstr(text, "shell bob"), "%s", text);
	free(text);
	free(old);
	key_release(&k);
}

/* Lines this version's predecessor wrote: restrict alone, so no terminal for run. */
Test(keys, lines_without_a_pty_get_one_when_the_file_is_written)
{
	struct ssh_key k = SSH_KEY_INIT;
	cr_assert_eq(key_parse(&k, pub_b), 0);
	static const char foreign[] =
		"restrict,command=\"/usr/bin/backup\" ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOperator op@host\n";
	char *old = th_path("%srestrict,command=\"/usr/local/bin/slipway --root /home/git shell bob\" "
			    "ssh-ed25519 %s bob@desk\n", foreign, k.blob);
	th_write(file, old, 0600);
	struct strvec seen = STRVEC_INIT;
	cr_assert_eq(keys_list(file, collect, &seen), 0);
	cr_assert_eq(seen.n, 1);
	cr_assert(!strncmp(seen.v[0], "bob SHA256:", 11), "%s", seen.v[0]);
	strvec_clear(&seen);

	/* any write brings it up to date; a line slipway did not write stays as it is */
	add("alice", pub_a);
	char *text = th_read(file, NULL);
	char *want = th_path("%srestrict,pty,command=\"/usr/local/bin/slipway --root /home/git shell bob\" "
			     "ssh-ed25519 %s bob@desk\nrestrict,pty,command=", foreign, k.blob);
	cr_assert(!strncmp(text, want, strlen(want)), "%s\nwant: %s", text, want);
	free(want);
	free(text);

	/* the same when a key is removed; an old line is removed as a new one */
	struct ssh_key a = SSH_KEY_INIT;
	cr_assert_eq(key_parse(&a, pub_a), 0);
	char *two = th_path("%srestrict,pty,command=\"/usr/local/bin/slipway --root /home/git shell "
			    "carol\" ssh-ed25519 %s carol\n", old, a.blob);
	th_write(file, two, 0600);
	free(two);
	key_release(&a);
	int n = 0;
	cr_assert_eq(keys_remove(file, "carol", &n), 0, "%s", sw_error_last());
	text = th_read(file, NULL);
	want = th_path("%srestrict,pty,command=\"/usr/local/bin/slipway --root /home/git shell bob\" "
		       "ssh-ed25519 %s bob@desk\n", foreign, k.blob);
	cr_assert_str_eq(text, want);
	free(want);
	free(text);
	th_write(file, old, 0600);
	cr_assert_eq(keys_remove(file, "bob", &n), 0, "%s", sw_error_last());
	text = th_read(file, NULL);
	cr_assert_str_eq(text, foreign);
	free(text);
	free(old);
	key_release(&k);
}

Test(keys, access_users_and_collaborators)
{
	cr_assert(access_user_valid("alice@example.com"));
	cr_assert(access_user_valid("a.b_c+d-e"));
	cr_assert(!access_user_valid(""));
	cr_assert(!access_user_valid("-rf"));
	cr_assert(!access_user_valid("a b"));
	cr_assert(!access_user_valid("a;b"));
	cr_assert(!access_user_valid("../x"));
	cr_assert(!access_user_valid("a\"b"));
	char long_name[66];
	memset(long_name, 'a', 65);
	long_name[65] = '\0';
	cr_assert(!access_user_valid(long_name));
	long_name[64] = '\0';
	cr_assert(access_user_valid(long_name));

	struct app_create_opts co = APP_CREATE_OPTS_INIT;
	co.hook_exe = SLIPWAY_BIN;
	cr_assert_eq(app_create(root, "myapp", &co), 0, "%s", sw_error_last());
	cr_assert_eq(access_allowed(root, "myapp", "alice"), 0);
	cr_assert_eq(access_check(root, "myapp", "alice"), SW_ENOTFOUND);
	cr_assert_str_eq(sw_error_last(), "You do not have access to the app myapp.");
	cr_assert_eq(access_add(root, "myapp", "bob"), 0);
	cr_assert_eq(access_add(root, "myapp", "alice"), 0);
	cr_assert_eq(access_add(root, "myapp", "alice"), SW_EEXISTS);
	cr_assert_eq(access_add(root, "nope", "alice"), SW_ENOTFOUND);
	cr_assert_eq(access_add(root, "myapp", "a b"), SW_EINVALID);
	cr_assert_eq(access_check(root, "myapp", "alice"), 0);
	struct strvec users = STRVEC_INIT;
	cr_assert_eq(access_list(root, "myapp", &users), 0);
	cr_assert_eq(users.n, 2);
	cr_assert_str_eq(users.v[0], "alice");
	cr_assert_str_eq(users.v[1], "bob");
	strvec_clear(&users);
	cr_assert_eq(access_remove(root, "myapp", "alice"), 0);
	cr_assert_eq(access_remove(root, "myapp", "alice"), SW_ENOTFOUND);
	cr_assert_eq(access_allowed(root, "myapp", "alice"), 0);
	cr_assert_eq(access_allowed(root, "myapp", "bob"), 1);
}
