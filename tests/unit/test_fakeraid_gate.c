/* The fake-RAID gate: every combination of the decision table, nodmraid on
 * kernel command lines, the isw/DDF metadata parsers on bytes laid out as
 * mdadm writes them, and the dm/md listing parsers on real formats (dmsetup
 * table lines, sysfs metadata_version strings, a sysfs tree in a tmpdir). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fakeraid.h"
#include "fakeraid_active.h"
#include "gate.h"
#include "log.h"

/* --- decision table ---------------------------------------------------- */

static void decision_table(void **state)
{
	(void)state;
	enum { A = GATE_ALLOW, N = GATE_REFUSE_NODMRAID, M = GATE_REFUSE_ACTIVE,
	       S = GATE_REFUSE_STRIPED };
	/* metadata, striped, nodmraid, active, assembled → verdict; all 32. */
	static const struct { bool m, s, n, a, asm_; int want; } rows[] = {
		/* no metadata on the disks read: nothing to guard */
		{ 0, 0, 0, 0, 0, A }, { 0, 0, 0, 1, 0, A }, { 0, 0, 1, 0, 0, A }, { 0, 0, 1, 1, 0, A },
		{ 0, 0, 0, 0, 1, A }, { 0, 0, 0, 1, 1, A }, { 0, 0, 1, 0, 1, A }, { 0, 0, 1, 1, 1, A },
		{ 0, 1, 0, 0, 0, A }, { 0, 1, 0, 1, 0, A }, { 0, 1, 1, 0, 0, A }, { 0, 1, 1, 1, 0, A },
		{ 0, 1, 0, 0, 1, A }, { 0, 1, 0, 1, 1, A }, { 0, 1, 1, 0, 1, A }, { 0, 1, 1, 1, 1, A },
		/* a mirror member (or level unknown) */
		{ 1, 0, 0, 0, 0, N }, { 1, 0, 0, 1, 0, N },  /* no nodmraid: reboot */
		{ 1, 0, 1, 1, 0, M },                        /* nodmraid, sets assembled: stop them */
		{ 1, 0, 1, 0, 0, A },                        /* nodmraid, nothing assembled: go */
		{ 1, 0, 0, 0, 1, N }, { 1, 0, 0, 1, 1, N },
		{ 1, 0, 1, 1, 1, A },                        /* the assembled set itself was named */
		{ 1, 0, 1, 0, 1, A },
		/* a stripe/parity member: never a disk on its own */
		{ 1, 1, 0, 0, 0, S }, { 1, 1, 0, 1, 0, S }, { 1, 1, 1, 0, 0, S }, { 1, 1, 1, 1, 0, S },
		{ 1, 1, 0, 0, 1, S }, { 1, 1, 0, 1, 1, S }, { 1, 1, 1, 0, 1, S }, { 1, 1, 1, 1, 1, S },
	};
	bool seen[32] = { 0 };
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct gate_input in = { rows[i].m, rows[i].s, rows[i].n, rows[i].a, rows[i].asm_ };
		int key = rows[i].m << 4 | rows[i].s << 3 | rows[i].n << 2 | rows[i].a << 1 | rows[i].asm_;
		assert_false(seen[key]);
		seen[key] = true;
		if ((int)gate_decide(&in) != rows[i].want)
			fail_msg("row %zu: got %s", i, gate_verdict_name(gate_decide(&in)));
	}
	for (int k = 0; k < 32; k++)
		assert_true(seen[k]);
	assert_string_equal(gate_verdict_name(GATE_ALLOW), "allow");
	assert_string_equal(gate_verdict_name(GATE_REFUSE_NODMRAID), "refuse-need-nodmraid");
	assert_string_equal(gate_verdict_name(GATE_REFUSE_ACTIVE), "refuse-active-maps");
	assert_string_equal(gate_verdict_name(GATE_REFUSE_STRIPED), "refuse-striped");
}

/* --- kernel command line ----------------------------------------------- */

static void cmdline_nodmraid(void **state)
{
	(void)state;
	static const struct { const char *line; bool want; } cases[] = {
		{ "nodmraid", true },
		{ "BOOT_IMAGE=/vmlinuz root=/dev/sda1 ro quiet nodmraid\n", true },
		{ "nodmraid=1", true },
		{ "nodmraid=", true },
		{ "  nodmraid  ", true },
		{ "quiet\tnodmraid\tsplash", true },
		{ "\"nodmraid\"", true },                 /* the kernel drops the quotes */
		{ "foo=\"a b\" nodmraid", true },         /* a quoted value before it */
		{ "ifcpu64.c32 rescue64 scandelay=1 nodmraid -- rescue32 scandelay=1 nodmraid", true },
		{ "rescue64 scandelay=1 -- rescue32 scandelay=1 nodmraid", true },
		{ "", false },
		{ "quiet splash", false },
		{ "xnodmraid", false },
		{ "nodmraidx", false },
		{ "nodmraid2=1", false },
		{ "rd.nodmraid", false },
		{ "NODMRAID", false },                    /* parameters are case-sensitive */
		{ "dmraid=off", false },
		{ "nodmrai", false },
		{ "foo=\"a nodmraid\"", false },          /* inside a quoted value */
		{ "foo=\"a nodmraid b\" quiet", false },
		{ "foo=\"unterminated nodmraid", false },
		{ "foo=nodmraid", false },
		{ "init=/bin/sh -- nodmraidx", false },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		if (gate_cmdline_has_nodmraid(cases[i].line) != cases[i].want)
			fail_msg("'%s': expected %d", cases[i].line, cases[i].want);
	assert_false(gate_cmdline_has_nodmraid(NULL));
}

static bool collect(const char *w, size_t len, void *ctx)
{
	char *out = ctx;
	strncat(out, w, len);
	strcat(out, "|");
	return false;
}

static void cmdline_words(void **state)
{
	(void)state;
	char out[256] = "";
	assert_false(gate_cmdline_words(" a  foo=\"x y\" \"q r\"s b\n", collect, out));
	assert_string_equal(out, "a|foo=x y|q rs|b|");
}

/* --- isw (IMSM) MPB parser --------------------------------------------- */

static void put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v, p[1] = (uint8_t)(v >> 8), p[2] = (uint8_t)(v >> 16), p[3] = (uint8_t)(v >> 24);
}

/* The checksum: all dwords but itself add up to itself. */
static void fix_sum(uint8_t *mpb, size_t size)
{
	uint32_t sum = 0;
	put32(mpb + 0x20, 0);
	for (size_t i = 0; i < size; i += 4)
		sum += (uint32_t)mpb[i] | (uint32_t)mpb[i + 1] << 8 | (uint32_t)mpb[i + 2] << 16 |
		       (uint32_t)mpb[i + 3] << 24;
	put32(mpb + 0x20, sum);
}

/* One volume over `members` disks, as mdadm lays out an MPB. */
static size_t make_mpb(uint8_t *mpb, size_t cap, unsigned raid_level, unsigned members)
{
	size_t size = 0xD8 + 48 * members + 160 + 4 * members;
	assert_true(size <= cap);
	memset(mpb, 0, cap);
	memcpy(mpb, "Intel Raid ISM Cfg Sig. 1.1.00", 30);
	put32(mpb + 0x24, (uint32_t)size);
	mpb[0x38] = (uint8_t)members;
	mpb[0x39] = 1;
	uint8_t *dev = mpb + 0xD8 + 48 * members;
	memcpy(dev, "Volume0", 7);
	uint8_t *map = dev + 112;
	map[15] = (uint8_t)raid_level;
	map[16] = (uint8_t)members;
	fix_sum(mpb, size);
	return size;
}

static void isw_parser(void **state)
{
	(void)state;
	uint8_t mpb[1024];
	struct fr_volume v[4];
	static const struct { unsigned level, members; enum fr_level want; } cases[] = {
		{ 1, 2, FR_LEVEL_RAID1 }, { 0, 2, FR_LEVEL_RAID0 }, { 1, 4, FR_LEVEL_RAID10 },
		{ 5, 3, FR_LEVEL_RAID5 }, { 10, 4, FR_LEVEL_RAID10 }, { 7, 2, FR_LEVEL_OTHER },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		size_t size = make_mpb(mpb, sizeof(mpb), cases[i].level, cases[i].members);
		assert_int_equal(fr_isw_mpb_size(mpb, 512), size);
		assert_int_equal(fr_parse_isw(mpb, sizeof(mpb), v, 4), 1);
		assert_string_equal(v[0].name, "Volume0");
		assert_int_equal(v[0].level, cases[i].want);
		assert_int_equal(v[0].members, cases[i].members);
	}
	/* A wrong checksum, a truncated buffer and a missing signature. */
	size_t size = make_mpb(mpb, sizeof(mpb), 1, 2);
	mpb[0x20] ^= 1;
	assert_int_equal(fr_parse_isw(mpb, sizeof(mpb), v, 4), -EINVAL);
	mpb[0x20] ^= 1;
	assert_int_equal(fr_parse_isw(mpb, size - 4, v, 4), -EINVAL);
	/* num_raid_devs claiming a volume past mpb_size */
	size = make_mpb(mpb, sizeof(mpb), 1, 2);
	mpb[0x39] = 2;
	fix_sum(mpb, size);
	assert_int_equal(fr_parse_isw(mpb, sizeof(mpb), v, 4), -EINVAL);
	memcpy(mpb, "Intel Raid ISM Cfg Sig! ", 24);
	assert_int_equal(fr_isw_mpb_size(mpb, 512), 0);
	assert_int_equal(fr_parse_isw(mpb, sizeof(mpb), v, 4), -EINVAL);
	assert_true(fr_level_is_mirror(FR_LEVEL_RAID1));
	assert_false(fr_level_is_striped(FR_LEVEL_RAID1));
	assert_false(fr_level_is_striped(FR_LEVEL_UNKNOWN));
	assert_true(fr_level_is_striped(FR_LEVEL_RAID0));
	assert_true(fr_level_is_striped(FR_LEVEL_RAID10));
	assert_true(fr_level_is_striped(FR_LEVEL_RAID5));
	assert_true(fr_level_is_striped(FR_LEVEL_OTHER));
}

/* --- DDF config section parser ----------------------------------------- */

static void put_be(uint8_t *p, uint64_t v, int n)
{
	for (int i = n - 1; i >= 0; i--, v >>= 8)
		p[i] = (uint8_t)v;
}

static void ddf_parser(void **state)
{
	(void)state;
	uint8_t hdr[512], conf[4 * 1024];
	memset(hdr, 0xff, sizeof(hdr));
	put_be(hdr, 0xDE11DE11, 4);
	put_be(hdr + 96, 1000, 8);       /* primary_lba */
	put_be(hdr + 134, 2, 2);         /* config_record_len: 2 sectors */
	put_be(hdr + 216, 4, 4);         /* config_section_offset */
	put_be(hdr + 220, 8, 4);         /* config_section_length */
	uint64_t off, len;
	assert_int_equal(fr_ddf_config_location(hdr, &off, &len), 0);
	assert_int_equal(off, 1004 * 512);
	assert_int_equal(len, 8 * 512);

	memset(conf, 0xff, sizeof(conf));
	/* slot 0: RAID5 over 3; slot 1: unused; slots 2, 3: one RAID10 (two
	 * mirrored pairs spanned, as mdadm writes it) */
	uint8_t *r = conf;
	put_be(r, 0xEEEEEEEE, 4);
	put_be(r + 64, 3, 2);
	r[67] = 0x05, r[69] = 1, r[70] = 0;
	for (int seq = 0; seq < 2; seq++) {
		r = conf + (2 + seq) * 1024;
		put_be(r, 0xEEEEEEEE, 4);
		put_be(r + 64, 2, 2);
		r[67] = 0x01, r[69] = 2, r[70] = (uint8_t)seq, r[71] = 0x03;
	}
	struct fr_volume v[4];
	assert_int_equal(fr_parse_ddf_config(hdr, conf, sizeof(conf), v, 4), 2);
	assert_int_equal(v[0].level, FR_LEVEL_RAID5);
	assert_int_equal(v[0].members, 3);
	assert_int_equal(v[1].level, FR_LEVEL_RAID10);
	assert_int_equal(v[1].members, 4);
	/* a plain mirror; then JBOD */
	r = conf + 1024;
	put_be(r, 0xEEEEEEEE, 4);
	put_be(r + 64, 2, 2);
	r[67] = 0x01, r[69] = 1, r[70] = 0;
	assert_int_equal(fr_parse_ddf_config(hdr, conf, sizeof(conf), v, 4), 3);
	assert_int_equal(v[1].level, FR_LEVEL_RAID1);
	assert_int_equal(v[1].members, 2);
	r[67] = 0x0f;
	assert_int_equal(fr_parse_ddf_config(hdr, conf, sizeof(conf), v, 4), 3);
	assert_int_equal(v[1].level, FR_LEVEL_OTHER);
	/* not a DDF header */
	hdr[0] = 0;
	assert_int_equal(fr_parse_ddf_config(hdr, conf, sizeof(conf), v, 4), -EINVAL);
	assert_int_equal(fr_ddf_config_location(hdr, &off, &len), -EINVAL);
}

static void blkid_types(void **state)
{
	(void)state;
	size_t n = 0;
	for (; fr_blkid_types[n]; n++)
		assert_non_null(fr_format_of_type(fr_blkid_types[n]));
	assert_int_equal(n, 11);
	assert_string_equal(fr_format_of_type("isw_raid_member"), "isw");
	assert_string_equal(fr_format_of_type("promise_fasttrack_raid_member"), "promise");
	assert_null(fr_format_of_type("linux_raid_member"));
	assert_null(fr_format_of_type("ext4"));
	assert_null(fr_format_of_type(NULL));
}

/* --- dm and md listings ------------------------------------------------ */

static void dm_names_uuids(void **state)
{
	(void)state;
	assert_true(fr_dm_name_is_dmraid("isw_bdgfhcjbef_Volume0"));
	assert_true(fr_dm_name_is_dmraid("isw_bdgfhcjbef_Volume0p1"));
	assert_true(fr_dm_name_is_dmraid("pdc_bhfcedbdcc"));
	assert_true(fr_dm_name_is_dmraid("nvidia_fbcfbaaa1"));
	assert_true(fr_dm_name_is_dmraid("sil_aiaeaeaeaeae"));
	assert_true(fr_dm_name_is_dmraid("via_dbfcjcfbfc"));
	assert_true(fr_dm_name_is_dmraid("jmicron_GRAID"));
	assert_true(fr_dm_name_is_dmraid("asr_Raid1"));
	assert_true(fr_dm_name_is_dmraid("ddf1_4c5349202020202080861d6000000000"));
	assert_true(fr_dm_name_is_dmraid("hpt37x_ggbbcdcefc"));
	assert_true(fr_dm_name_is_dmraid("hpt45x_dcbbbadcba"));
	assert_false(fr_dm_name_is_dmraid("vg0-root"));
	assert_false(fr_dm_name_is_dmraid("isw_"));
	assert_false(fr_dm_name_is_dmraid("luks-0123"));
	assert_false(fr_dm_name_is_dmraid("swisw_abc"));
	assert_true(fr_dm_uuid_is_dmraid("DMRAID-isw_bdgfhcjbef_Volume0"));
	assert_true(fr_dm_uuid_is_dmraid("part1-DMRAID-pdc_bhfcedbdcc"));
	assert_false(fr_dm_uuid_is_dmraid("LVM-Xo8vlA2v3jLZ0hYV1wtBv0oYkqXc8Ad5"));
	assert_false(fr_dm_uuid_is_dmraid("CRYPT-LUKS2-0123-luks"));
	assert_false(fr_dm_uuid_is_dmraid("DMRAID-"));
	assert_false(fr_dm_uuid_is_dmraid("partx-DMRAID-isw_a"));
	assert_false(fr_dm_uuid_is_dmraid(""));
	/* by uuid when there is one: an LVM LV called isw_… is not dmraid's */
	struct fr_dm_map m = { .name = "isw_fake_lv", .uuid = "LVM-abc" };
	assert_false(fr_dm_map_is_dmraid(&m));
	struct fr_dm_map n = { .name = "isw_abc_Vol0" };
	assert_true(fr_dm_map_is_dmraid(&n));
}

static void dm_table(void **state)
{
	(void)state;
	/* `dmsetup table` with dmraid's isw mirror and partition, an LVM LV of
	 * two segments, a promise stripe and a name with a space in it. */
	const char *text =
		"isw_bdgfhcjbef_Volume0: 0 976766976 mirror core 2 131072 nosync 2 8:0 0 8:16 0 1 handle_errors\n"
		"isw_bdgfhcjbef_Volume0p1: 0 976764928 linear 253:0 2048\n"
		"vg0-home: 0 1000 linear 8:33 2048\n"
		"vg0-home: 1000 2000 linear 8:49 2048\n"
		"pdc_bhfcedbdcc: 0 312581632 striped 2 128 8:0 0 8:16 0\n"
		"odd name: 0 8 zero\n";
	struct fr_dm_map *m = NULL;
	int n = fr_dm_parse_table(text, &m);
	assert_int_equal(n, 5);
	assert_string_equal(m[0].name, "isw_bdgfhcjbef_Volume0");
	assert_int_equal(m[0].n_targets, 1);
	assert_string_equal(m[0].targets[0], "mirror");
	assert_string_equal(m[1].targets[0], "linear");
	assert_string_equal(m[2].name, "vg0-home");
	assert_int_equal(m[2].n_targets, 1);
	assert_string_equal(m[3].targets[0], "striped");
	assert_string_equal(m[4].name, "odd name");
	assert_true(fr_dm_map_is_dmraid(&m[0]));
	assert_true(fr_dm_map_is_dmraid(&m[1]));
	assert_false(fr_dm_map_is_dmraid(&m[2]));
	assert_true(fr_dm_map_is_dmraid(&m[3]));
	free(m);

	assert_int_equal(fr_dm_parse_table("No devices found\n", &m), 0);
	free(m);
	assert_int_equal(fr_dm_parse_table("", &m), 0);
	free(m);
	log_set_level(LOG_ERROR);
	assert_int_equal(fr_dm_parse_table("isw_a: garbage\n", &m), -EINVAL);
	assert_int_equal(fr_dm_parse_table("no colon at all 0 8 linear\n", &m), -EINVAL);
	log_set_level(LOG_INFO);
}

static void md_metadata_version(void **state)
{
	(void)state;
	struct fr_md_array a;
	assert_int_equal(fr_md_parse_metadata_version("external:imsm\n", &a), 0);
	assert_int_equal(a.kind, FR_MD_CONTAINER);
	assert_string_equal(a.format, "imsm");
	assert_true(fr_md_is_fakeraid(&a));
	assert_int_equal(fr_md_parse_metadata_version("external:ddf\n", &a), 0);
	assert_int_equal(a.kind, FR_MD_CONTAINER);
	assert_string_equal(a.format, "ddf");
	assert_int_equal(fr_md_parse_metadata_version("external:/md127/0\n", &a), 0);
	assert_int_equal(a.kind, FR_MD_MEMBER);
	assert_string_equal(a.container, "md127");
	assert_string_equal(a.subarray, "0");
	assert_true(fr_md_is_fakeraid(&a));
	assert_int_equal(fr_md_parse_metadata_version("external:-md127/1", &a), 0);
	assert_int_equal(a.kind, FR_MD_MEMBER);
	assert_string_equal(a.subarray, "1");
	static const char *const native[] = { "1.2\n", "1.0", "0.90\n", "none\n" };
	for (size_t i = 0; i < 4; i++) {
		assert_int_equal(fr_md_parse_metadata_version(native[i], &a), 0);
		assert_int_equal(a.kind, FR_MD_NATIVE);
		assert_false(fr_md_is_fakeraid(&a));
	}
	assert_int_equal(fr_md_parse_metadata_version("external:imsmx\n", &a), 0);
	assert_int_equal(a.kind, FR_MD_OTHER_EXTERNAL);
	assert_int_equal(fr_md_parse_metadata_version("external:/md127\n", &a), 0);
	assert_int_equal(a.kind, FR_MD_OTHER_EXTERNAL);
	assert_false(fr_md_is_fakeraid(&a));
	assert_int_equal(fr_md_parse_metadata_version("\n", &a), -EINVAL);
}

/* A sysfs tree in a tmpdir, laid out as the kernel does it. */
static void write_at(const char *root, const char *rel, const char *text)
{
	char path[4096], cmd[4200];
	snprintf(path, sizeof(path), "%s/%s", root, rel);
	snprintf(cmd, sizeof(cmd), "mkdir -p \"$(dirname '%s')\"", path);
	assert_int_equal(system(cmd), 0);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static void link_at(const char *root, const char *target, const char *rel)
{
	char path[4096];
	snprintf(path, sizeof(path), "%s/%s", root, rel);
	assert_int_equal(symlink(target, path), 0);
}

static void sysfs_tree(void **state)
{
	(void)state;
	char root[] = "/tmp/p2v-fr-sysfs.XXXXXX";
	assert_non_null(mkdtemp(root));
	write_at(root, "devices/virtual/block/md127/md/metadata_version", "external:imsm\n");
	write_at(root, "devices/virtual/block/md126/md/metadata_version", "external:/md127/0\n");
	write_at(root, "devices/virtual/block/md126/md126p1/partition", "1\n");
	write_at(root, "devices/virtual/block/md0/md/metadata_version", "1.2\n");
	write_at(root, "devices/virtual/block/dm-0/dm/uuid", "DMRAID-isw_bdgfhcjbef_Volume0\n");
	write_at(root, "devices/virtual/block/dm-0/dm/name", "isw_bdgfhcjbef_Volume0\n");
	write_at(root, "devices/virtual/block/dm-1/dm/uuid", "LVM-Xo8vlA2v3jLZ\n");
	write_at(root, "devices/virtual/block/dm-1/dm/name", "isw_looks_like\n");
	write_at(root, "devices/virtual/block/dm-2/dm/uuid", "\n");
	write_at(root, "devices/virtual/block/dm-2/dm/name", "pdc_bhfcedbdcc\n");
	write_at(root, "devices/pci0000:00/ata1/block/sda/size", "1000\n");
	write_at(root, "devices/pci0000:00/ata1/block/sda/sda1/partition", "1\n");
	write_at(root, "class/misc/.keep", "");
	write_at(root, "class/block/.keep", "");
	write_at(root, "block/.keep", "");
	static const char *const names[] = { "md127", "md126", "md0", "dm-0", "dm-1", "dm-2" };
	char target[256], rel[256];
	for (size_t i = 0; i < 6; i++) {
		snprintf(target, sizeof(target), "../../devices/virtual/block/%s", names[i]);
		snprintf(rel, sizeof(rel), "class/block/%s", names[i]);
		link_at(root, target, rel);
		snprintf(target, sizeof(target), "../devices/virtual/block/%s", names[i]);
		snprintf(rel, sizeof(rel), "block/%s", names[i]);
		link_at(root, target, rel);
	}
	link_at(root, "../../devices/virtual/block/md126/md126p1", "class/block/md126p1");
	link_at(root, "../../devices/pci0000:00/ata1/block/sda", "class/block/sda");
	link_at(root, "../../devices/pci0000:00/ata1/block/sda/sda1", "class/block/sda1");

	assert_true(fr_block_is_assembled(root, "dm-0"));
	assert_false(fr_block_is_assembled(root, "dm-1"));   /* LVM, whatever its name */
	assert_true(fr_block_is_assembled(root, "dm-2"));    /* no uuid: by name */
	assert_false(fr_block_is_assembled(root, "md127"));  /* the container holds no data */
	assert_true(fr_block_is_assembled(root, "md126"));
	assert_true(fr_block_is_assembled(root, "md126p1"));
	assert_false(fr_block_is_assembled(root, "md0"));
	assert_false(fr_block_is_assembled(root, "sda"));
	assert_false(fr_block_is_assembled(root, "sda1"));
	assert_false(fr_block_is_assembled(root, "nosuch"));

	/* no device-mapper driver in this tree: md only */
	struct fr_active act;
	assert_int_equal(fr_active_scan(root, &act), 0);
	assert_int_equal(act.n_dm, 0);
	assert_int_equal(act.n_md, 2);
	bool container = false, member = false;
	for (size_t i = 0; i < act.n_md; i++) {
		if (!strcmp(act.md[i].name, "md127")) {
			container = act.md[i].kind == FR_MD_CONTAINER;
			assert_string_equal(act.md[i].format, "imsm");
		}
		if (!strcmp(act.md[i].name, "md126")) {
			member = act.md[i].kind == FR_MD_MEMBER;
			assert_string_equal(act.md[i].container, "md127");
		}
	}
	assert_true(container && member);
	fr_active_free(&act);

	char cmd[512];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
	assert_int_equal(system(cmd), 0);
}

int main(void)
{
	log_init("test_fakeraid_gate");
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(decision_table),
		cmocka_unit_test(cmdline_nodmraid),
		cmocka_unit_test(cmdline_words),
		cmocka_unit_test(isw_parser),
		cmocka_unit_test(ddf_parser),
		cmocka_unit_test(blkid_types),
		cmocka_unit_test(dm_names_uuids),
		cmocka_unit_test(dm_table),
		cmocka_unit_test(md_metadata_version),
		cmocka_unit_test(sysfs_tree),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
