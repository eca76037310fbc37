#define _GNU_SOURCE
#include "util/caps.h"

#include <errno.h>
#include <stdio.h>
#include <linux/capability.h>
#include <stdint.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

/* What caps_drop_inherited() cleared: the inheritable set and the ambient one, one bit a cap. */
static uint64_t dropped_inheritable, dropped_ambient;

/* Capabilities above this are not in any kernel's bitmask of two 32-bit words. */
#define CAPS_MAX 64

static int caps_get(struct __user_cap_data_struct data[2])
{
	struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3, .pid = 0 };
	return (int)syscall(SYS_capget, &hdr, data);
}

/* Sets the inheritable set to inh, keeping the permitted and effective ones. */
static int caps_set_inheritable(uint64_t inh)
{
	struct __user_cap_data_struct data[2];
	if (caps_get(data) < 0)
		return -1;
	data[0].inheritable = (uint32_t)inh;
	data[1].inheritable = (uint32_t)(inh >> 32);
	struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3, .pid = 0 };
	return (int)syscall(SYS_capset, &hdr, data);
}

int caps_drop_inherited(void)
{
	struct __user_cap_data_struct data[2];
	if (caps_get(data) < 0)
		return -1;
	uint64_t inh = data[0].inheritable | (uint64_t)data[1].inheritable << 32, amb = 0;
	if (!inh)
		return 0; /* the kernel keeps the ambient set within the inheritable one: none either */
	for (int cap = 0; cap < CAPS_MAX; cap++) {
		int set = prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_IS_SET, cap, 0, 0);
		if (set < 0)
			break; /* past the kernel's last capability, or no ambient set at all */
		if (set)
			amb |= (uint64_t)1 << cap;
	}
	if (amb && prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0)
		return -1;
	if (caps_set_inheritable(0) < 0)
		return -1;
	dropped_inheritable = inh;
	dropped_ambient = amb;
	return 0;
}

int caps_restore_inherited(void)
{
	struct __user_cap_data_struct data[2];
	if (!dropped_inheritable && !dropped_ambient)
		return 0;
	if (caps_get(data) < 0)
		return -1;
	/* without CAP_SETPCAP, only permitted capabilities may become inheritable again */
	uint64_t permitted = data[0].permitted | (uint64_t)data[1].permitted << 32;
	if (caps_set_inheritable(dropped_inheritable & permitted) < 0)
		return -1;
	for (int cap = 0; cap < CAPS_MAX; cap++)
		if ((dropped_ambient & permitted & dropped_inheritable) >> cap & 1 &&
		    prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, cap, 0, 0) < 0)
			return -1;
	return 0;
}

int caps_may_bind(int port)
{
	int start = 1024;
	FILE *f = fopen("/proc/sys/net/ipv4/ip_unprivileged_port_start", "re");
	if (f && fscanf(f, "%d", &start) != 1)
		start = 1024;
	if (f)
		fclose(f);
	if (port >= start)
		return 1;
	struct __user_cap_data_struct data[2];
	return caps_get(data) == 0 && (data[0].effective >> CAP_NET_BIND_SERVICE & 1);
}
