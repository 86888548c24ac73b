/* The BIOS RAID teardown plan from canned `dmsetup info`/`table`/`deps`
 * output and a made-up sysfs tree: what is removed, and in which order
 * (everything stacked on a device before the device). */
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

#include "dmraid_teardown.h"
#include "log.h"

/* The plan as "name name …", and a check that every node precedes every
 * device it is built on that is also in the plan. */
static char *plan_string(const struct dmt_graph *g, int *rc_out)
{
	size_t *order = NULL, n = 0;
	int rc = dmt_plan(g, &order, &n);
	*rc_out = rc;
	char *s = calloc(1, 4096);
	assert_non_null(s);
	for (size_t i = 0; rc == 0 && i < n; i++) {
		const struct dmt_node *nd = &g->nodes[order[i]];
		if (i)
			strcat(s, " ");
		strcat(s, nd->name);
		for (size_t k = 0; k < nd->n_deps; k++)
			for (size_t j = 0; j < i; j++) {
				const struct dmt_node *earlier = &g->nodes[order[j]];
				/* A device this node sits on was removed before it: wrong. */
				assert_false(earlier->dev.major == nd->deps[k].major &&
					     earlier->dev.minor == nd->deps[k].minor);
			}
	}
	free(order);
	return s;
}

static const char isw_info[] =
	"cryptswap 254 5 CRYPT-LUKS2-0123456789abcdef0123456789abcdef-cryptswap\n"
	"isw_bdjiaegdhg_Volume0 254 0 DMRAID-isw_bdjiaegdhg_Volume0\n"
	"isw_bdjiaegdhg_Volume0p1 254 1 DMRAID-isw_bdjiaegdhg_Volume0p1\n"
	"isw_bdjiaegdhg_Volume0p2 254 2 DMRAID-isw_bdjiaegdhg_Volume0p2\n"
	"vg0-root 254 3 LVM-Q5x2yJfG1o0Hj8kLmNpQrStUvWxYz012AbCdEfGhIjKlMnOpQrStUvWxYz34\n"
	"vg1-data 254 4 LVM-zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz\n";

/* As `dmsetup table` prints it (sorted by name, devices as major:minor). */
static const char isw_table[] =
	"cryptswap: 0 1048576 crypt aes-xts-plain64 :64:logon:cryptsetup:0123-d0 0 8:64 4096\n"
	"isw_bdjiaegdhg_Volume0: 0 976771072 mirror core 2 131072 nosync 2 8:0 0 8:16 0 1 handle_errors\n"
	"isw_bdjiaegdhg_Volume0p1: 0 1024000 linear 254:0 2048\n"
	"isw_bdjiaegdhg_Volume0p2: 0 975745024 linear 254:0 1026048\n"
	"vg0-root: 0 409600 linear 254:2 2048\n"
	"vg0-root: 409600 409600 linear 254:2 821248\n"
	"vg1-data: 0 1000 linear 8:48 2048\n";

static const char isw_deps[] =
	"cryptswap: 1 dependencies\t: (8, 64)\n"
	"isw_bdjiaegdhg_Volume0: 2 dependencies\t: (8, 16) (8, 0)\n"
	"isw_bdjiaegdhg_Volume0p1: 1 dependencies\t: (254, 0)\n"
	"isw_bdjiaegdhg_Volume0p2: 1 dependencies\t: (254, 0)\n"
	"vg0-root: 1 dependencies\t: (254, 2)\n"
	"vg1-data: 1 dependencies\t: (8, 48)\n";

static void isw_mirror_with_lvm_on_top(void **state)
{
	(void)state;
	struct dmt_graph g = { 0 };
	assert_int_equal(dmt_parse_dmsetup(isw_info, isw_table, &g), 0);
	assert_int_equal(g.n, 6);
	const struct dmt_node *set = dmt_graph_find(&g, (struct dmt_devno){ 254, 0 });
	assert_non_null(set);
	assert_string_equal(set->name, "isw_bdjiaegdhg_Volume0");
	assert_true(set->fakeraid);
	assert_int_equal(set->n_deps, 2);
	/* The crypt key ":64:logon:…" is not a device reference. */
	const struct dmt_node *crypt = dmt_graph_find(&g, (struct dmt_devno){ 254, 5 });
	assert_int_equal(crypt->n_deps, 1);
	assert_int_equal(crypt->deps[0].major, 8);
	assert_int_equal(crypt->deps[0].minor, 64);
	assert_false(crypt->fakeraid);
	/* Two segments on the same device count once. */
	assert_int_equal(dmt_graph_find(&g, (struct dmt_devno){ 254, 3 })->n_deps, 1);

	int rc;
	char *plan = plan_string(&g, &rc);
	assert_int_equal(rc, 0);
	/* The LV on p2 goes before p2; unrelated maps stay. */
	assert_string_equal(plan, "isw_bdjiaegdhg_Volume0p1 vg0-root isw_bdjiaegdhg_Volume0p2 "
				  "isw_bdjiaegdhg_Volume0");
	free(plan);
	dmt_graph_free(&g);
}

static void deps_output_gives_the_same_plan(void **state)
{
	(void)state;
	struct dmt_graph a = { 0 }, b = { 0 };
	assert_int_equal(dmt_parse_dmsetup(isw_info, isw_table, &a), 0);
	assert_int_equal(dmt_parse_dmsetup(isw_info, isw_deps, &b), 0);
	int rc1, rc2;
	char *p1 = plan_string(&a, &rc1), *p2 = plan_string(&b, &rc2);
	assert_int_equal(rc1, 0);
	assert_int_equal(rc2, 0);
	assert_string_equal(p1, p2);
	free(p1);
	free(p2);
	dmt_graph_free(&a);
	dmt_graph_free(&b);
}

/* dmraid's RAID10: a stripe over two mirror sub-sets, an old-style
 * partition without partchar, and names with no uuid at all. */
static void nested_raid10_without_uuids(void **state)
{
	(void)state;
	const char *info =
		"nvidia_fbdhcdab 254 2\n"
		"nvidia_fbdhcdab-0 254 0\n"
		"nvidia_fbdhcdab-1 254 1\n"
		"nvidia_fbdhcdab1 254 3\n"
		"other 254 4\n";
	const char *table =
		"nvidia_fbdhcdab: 0 1953536 striped 2 128 254:0 0 254:1 0\n"
		"nvidia_fbdhcdab-0: 0 976768 mirror core 2 131072 nosync 2 8:0 0 8:16 0 1 handle_errors\n"
		"nvidia_fbdhcdab-1: 0 976768 mirror core 2 131072 nosync 2 8:32 0 8:48 0 1 handle_errors\n"
		"nvidia_fbdhcdab1: 0 1953000 linear 254:2 63\n"
		"other: 0 100 linear 8:64 0\n";
	struct dmt_graph g = { 0 };
	assert_int_equal(dmt_parse_dmsetup(info, table, &g), 0);
	int rc;
	char *plan = plan_string(&g, &rc);
	assert_int_equal(rc, 0);
	assert_string_equal(plan, "nvidia_fbdhcdab1 nvidia_fbdhcdab nvidia_fbdhcdab-0 nvidia_fbdhcdab-1");
	free(plan);
	dmt_graph_free(&g);
}

static void nothing_to_do(void **state)
{
	(void)state;
	struct dmt_graph g = { 0 };
	assert_int_equal(dmt_parse_dmsetup("vg0-root 254 0 LVM-abc\n", "vg0-root: 0 8 linear 8:1 0\n", &g), 0);
	int rc;
	char *plan = plan_string(&g, &rc);
	assert_int_equal(rc, 0);
	assert_string_equal(plan, "");
	free(plan);
	dmt_graph_free(&g);

	struct dmt_graph empty = { 0 };
	size_t *order = (size_t *)&rc, n = 99;
	assert_int_equal(dmt_plan(&empty, &order, &n), 0);
	assert_null(order);
	assert_int_equal(n, 0);
}

static void classification(void **state)
{
	(void)state;
	assert_true(dmt_is_dmraid_map("isw_bdjiaegdhg_Volume0", "DMRAID-isw_bdjiaegdhg_Volume0"));
	assert_true(dmt_is_dmraid_map("anything", "DMRAID-pdc_bbfhdjgf"));
	assert_true(dmt_is_dmraid_map("pdc_bbfhdjgf1", "part1-DMRAID-pdc_bbfhdjgf"));
	assert_true(dmt_is_dmraid_map("jmicron_GRAID", NULL));
	assert_true(dmt_is_dmraid_map("ddf1_4c5349202020202080861d60000000004711471100001450", ""));
	assert_true(dmt_is_dmraid_map("sil_agaccfcbbjcb", ""));
	/* A uuid of another owner wins over a dmraid-looking name. */
	assert_false(dmt_is_dmraid_map("isw_lookalike", "LVM-abcdef"));
	assert_false(dmt_is_dmraid_map("isw_", ""));
	assert_false(dmt_is_dmraid_map("via", ""));
	assert_false(dmt_is_dmraid_map("vg0-root", ""));
	assert_false(dmt_is_dmraid_map("mpatha", "mpath-3600508b400105e210000900000490000"));

	assert_true(dmt_md_is_external("external:imsm"));
	assert_true(dmt_md_is_external("external:/md127/0"));
	assert_false(dmt_md_is_external("1.2"));
	assert_false(dmt_md_is_external("none"));
}

static void cycle_is_refused(void **state)
{
	(void)state;
	struct dmt_graph g = { 0 };
	assert_int_equal(dmt_parse_dmsetup("isw_a_V 254 0 DMRAID-isw_a_V\nloop2 254 1\n",
					   "isw_a_V: 0 8 linear 254:1 0\nloop2: 0 8 linear 254:0 0\n", &g), 0);
	size_t *order = NULL, n = 0;
	assert_int_equal(dmt_plan(&g, &order, &n), -ELOOP);
	assert_null(order);
	dmt_graph_free(&g);
}

static void malformed_info_is_refused(void **state)
{
	(void)state;
	struct dmt_graph g = { 0 };
	assert_int_equal(dmt_parse_dmsetup("isw_a_V 254\n", "", &g), -EINVAL);
	dmt_graph_free(&g);
}

/* A made-up /sys: block/NAME/dev, block/NAME/md/metadata_version and
 * block/NAME/slaves/X -> ../../X. */
static char sysfs[64];

static void put(const char *rel, const char *text)
{
	char path[512], dir[600];
	snprintf(path, sizeof(path), "%s/%s", sysfs, rel);
	snprintf(dir, sizeof(dir), "mkdir -p \"$(dirname '%s')\"", path);
	assert_int_equal(system(dir), 0);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static void slave(const char *array, const char *disk)
{
	char link[512], target[128];
	snprintf(link, sizeof(link), "%s/block/%s/slaves", sysfs, array);
	char cmd[600];
	snprintf(cmd, sizeof(cmd), "mkdir -p '%s'", link);
	assert_int_equal(system(cmd), 0);
	snprintf(link, sizeof(link), "%s/block/%s/slaves/%s", sysfs, array, disk);
	snprintf(target, sizeof(target), "../../%s", disk);
	assert_int_equal(symlink(target, link), 0);
}

static void make_sysfs(bool native_on_fakeraid)
{
	strcpy(sysfs, "/tmp/test_dmraid_sysfs.XXXXXX");
	assert_non_null(mkdtemp(sysfs));
	put("block/sda/dev", "8:0\n");
	put("block/sdb/dev", "8:16\n");
	put("block/sdc/dev", "8:32\n");
	put("block/sdd/dev", "8:48\n");
	/* The imsm container and the RAID1 volume inside it. */
	put("block/md127/dev", "9:127\n");
	put("block/md127/md/metadata_version", "external:imsm\n");
	slave("md127", "sda");
	slave("md127", "sdb");
	put("block/md126/dev", "9:126\n");
	put("block/md126/md/metadata_version", "external:/md127/0\n");
	slave("md126", "sda");
	slave("md126", "sdb");
	/* An unrelated native array. */
	put("block/md0/dev", "9:0\n");
	put("block/md0/md/metadata_version", "1.2\n");
	slave("md0", "sdc");
	if (native_on_fakeraid) {
		put("block/md1/dev", "9:1\n");
		put("block/md1/md/metadata_version", "1.2\n");
		slave("md1", "dm-0");
		put("block/dm-0/dev", "254:0\n");
	}
	/* Not an md array: no md/ directory. */
	put("block/mdx/dev", "9:99\n");
}

static void remove_sysfs(void)
{
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", sysfs);
	assert_int_equal(system(cmd), 0);
}

static void imsm_container_with_lvm_on_the_volume(void **state)
{
	(void)state;
	make_sysfs(false);
	struct dmt_graph g = { 0 };
	/* LVM on the volume's partition map, as kpartx would make it. */
	assert_int_equal(dmt_parse_dmsetup("md126p1 254 0 part1-md126\nvg-lv 254 1 LVM-x\n",
					   "md126p1: 0 100 linear 9:126 2048\n"
					   "vg-lv: 0 50 linear 254:0 2048\n", &g), 0);
	assert_int_equal(dmt_collect_md(sysfs, &g), 0);
	assert_int_equal(g.n, 2 + 3);   /* mdx has no md/ directory */
	const struct dmt_node *vol = dmt_graph_find(&g, (struct dmt_devno){ 9, 126 });
	assert_non_null(vol);
	assert_string_equal(vol->metadata, "external:/md127/0");
	assert_true(vol->fakeraid);
	assert_int_equal(vol->n_deps, 3);   /* sda, sdb and the container */
	assert_false(dmt_graph_find(&g, (struct dmt_devno){ 9, 0 })->fakeraid);
	int rc;
	char *plan = plan_string(&g, &rc);
	assert_int_equal(rc, 0);
	assert_string_equal(plan, "vg-lv md126p1 md126 md127");
	free(plan);
	dmt_graph_free(&g);
	remove_sysfs();
}

static void native_md_on_fakeraid_is_left_to_the_user(void **state)
{
	(void)state;
	make_sysfs(true);
	struct dmt_graph g = { 0 };
	assert_int_equal(dmt_parse_dmsetup("isw_a_V 254 0 DMRAID-isw_a_V\n",
					   "isw_a_V: 0 8 mirror core 2 131072 nosync 2 8:32 0 8:48 0\n", &g), 0);
	assert_int_equal(dmt_collect_md(sysfs, &g), 0);
	size_t *order = NULL, n = 0;
	assert_int_equal(dmt_plan(&g, &order, &n), -EPERM);
	assert_null(order);
	dmt_graph_free(&g);
	remove_sysfs();
}

static void missing_sysfs_is_empty(void **state)
{
	(void)state;
	struct dmt_graph g = { 0 };
	assert_int_equal(dmt_collect_md("/nonexistent-sysfs-for-test", &g), 0);
	assert_int_equal(g.n, 0);
}

int main(void)
{
	log_init("test_dmraid_teardown");
	log_set_level(LOG_ERROR);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(isw_mirror_with_lvm_on_top),
		cmocka_unit_test(deps_output_gives_the_same_plan),
		cmocka_unit_test(nested_raid10_without_uuids),
		cmocka_unit_test(nothing_to_do),
		cmocka_unit_test(classification),
		cmocka_unit_test(cycle_is_refused),
		cmocka_unit_test(malformed_info_is_refused),
		cmocka_unit_test(imsm_container_with_lvm_on_the_volume),
		cmocka_unit_test(native_md_on_fakeraid_is_left_to_the_user),
		cmocka_unit_test(missing_sysfs_is_empty),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
