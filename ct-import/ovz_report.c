/* convert-openvz's JSON report (ovz_report.h, format in convert_openvz.h). */
#include "ovz_report.h"

#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "atomic_file.h"
#include "convert_openvz.h"
#include "log.h"
#include "util.h"

int ovz_run_note(struct ovz_run *r, const char *text)
{
	char **grown = realloc(r->notes, (r->n_notes + 1) * sizeof(*grown));
	if (!grown)
		return -ENOMEM;
	r->notes = grown;
	if (!(r->notes[r->n_notes] = strdup(text)))
		return -ENOMEM;
	r->n_notes++;
	return 0;
}

void ovz_run_free(struct ovz_run *r)
{
	free(r->config);
	free(r->ctid);
	free(r->error);
	for (size_t i = 0; i < r->n_notes; i++)
		free(r->notes[i]);
	free(r->notes);
	for (size_t i = 0; i < r->n_outputs; i++) {
		free(r->outputs[i].path);
		free(r->outputs[i].name);
	}
	ovz_fixlog_free(&r->fixups);
}

static json_t *str_or_null(const char *s)
{
	return s ? json_string(s) : json_null();
}

static json_t *mapped(const struct ovz_run *r)
{
	const struct veconf_map *m = r->map;
	const struct ct_spec *s = r->spec;
	json_t *o = json_object();
	char buf[32];
	json_object_set_new(o, "hostname", str_or_null(m->hostname));
	json_object_set_new(o, "memory_mb", json_integer(m->memory_mb));
	json_object_set_new(o, "swap_mb", json_integer(m->swap_mb));
	json_object_set_new(o, "disk_gb", m->disk_gb ? json_integer(m->disk_gb) : json_null());
	json_object_set_new(o, "cores", m->cores ? json_integer(m->cores) : json_null());
	json_object_set_new(o, "cpulimit", m->has_cpulimit && m->cpulimit_pct
				   ? json_string(veconf_cpulimit_str(m->cpulimit_pct, buf, sizeof(buf)))
				   : json_null());
	json_object_set_new(o, "cpuunits", m->has_cpuunits ? json_integer(m->cpuunits) : json_null());
	json_object_set_new(o, "onboot", m->onboot < 0 ? json_null() : json_boolean(m->onboot));
	json_object_set_new(o, "nameserver", str_or_null(m->nameserver));
	json_object_set_new(o, "searchdomain", str_or_null(m->searchdomain));
	json_t *net = json_null();
	if (m->has_net || (s && s->bridge)) {
		net = json_object();
		json_object_set_new(net, "name", json_string(m->net0.name ? m->net0.name : "eth0"));
		json_object_set_new(net, "bridge", str_or_null(s ? s->bridge : m->net0.bridge));
		json_object_set_new(net, "hwaddr", str_or_null(m->net0.hwaddr));
		json_object_set_new(net, "ip", str_or_null(m->net0.ip));
		json_object_set_new(net, "ip6", str_or_null(m->net0.ip6));
		json_object_set_new(net, "gw", str_or_null(s ? (s->gw ? s->gw : s->gw6) : NULL));
	}
	json_object_set_new(o, "net0", net);
	return o;
}

char *ovz_report_json(const struct ovz_run *r)
{
	static const char *const results[] = { "ok", "failed", "usage", "exists", "invalid" };
	json_t *o = json_object();
	json_object_set_new(o, "version", json_integer(CTI_OVZ_REPORT_VERSION));
	json_object_set_new(o, "source", json_string(r->source));
	json_object_set_new(o, "source_type", json_string(r->is_dir ? "private" : "archive"));
	json_object_set_new(o, "config", str_or_null(r->config));
	json_object_set_new(o, "ctid", str_or_null(r->ctid));
	json_object_set_new(o, "vmid", r->vmid ? json_integer(r->vmid) : json_null());
	json_object_set_new(o, "name", str_or_null(r->name));
	json_object_set_new(o, "output", json_string(r->output));
	json_object_set_new(o, "backend", str_or_null(r->backend));
	json_object_set_new(o, "dry_run", json_boolean(r->dry_run));
	json_object_set_new(o, "mapped", r->map ? mapped(r) : json_null());
	json_t *un = json_array();
	for (size_t i = 0; r->map && i < r->map->n_unmapped; i++) {
		const struct veconf_item *it = &r->map->unmapped[i];
		json_array_append_new(un, json_pack("{s:s, s:s, s:i, s:s}", "key", it->key, "value",
						    it->value, "line", (int)it->line, "why", it->why));
	}
	json_object_set_new(o, "unmapped", un);
	json_t *notes = json_array();
	for (size_t i = 0; r->map && i < r->map->n_notes; i++)
		json_array_append_new(notes, json_string(r->map->notes[i]));
	for (size_t i = 0; i < r->n_notes; i++)
		json_array_append_new(notes, json_string(r->notes[i]));
	json_object_set_new(o, "notes", notes);
	json_t *fx = json_array();
	for (size_t i = 0; i < r->fixups.n; i++)
		json_array_append_new(fx, json_string(r->fixups.v[i]));
	json_object_set_new(o, "fixups", fx);
	json_t *outs = json_array();
	for (size_t i = 0; i < r->n_outputs; i++) {
		const struct ovz_output_rec *w = &r->outputs[i];
		json_t *x = json_object();
		json_object_set_new(x, "kind", json_string(w->kind));
		if (w->path)
			json_object_set_new(x, "path", json_string(w->path));
		if (w->vmid)
			json_object_set_new(x, "vmid", json_integer(w->vmid));
		if (w->name)
			json_object_set_new(x, "name", json_string(w->name));
		json_array_append_new(outs, x);
	}
	json_object_set_new(o, "outputs", outs);
	int ec = r->exit_code;
	json_object_set_new(o, "result", json_string(ec >= 0 && ec <= 4 ? results[ec] : "failed"));
	json_object_set_new(o, "exit_code", json_integer(ec));
	json_object_set_new(o, "error", str_or_null(r->error));
	char *text = json_dumps(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	json_decref(o);
	return text;
}

int ovz_report_write(const char *path, const struct ovz_run *r)
{
	_cleanup_free_ char *text = ovz_report_json(r);
	if (!text) {
		log_error("cannot build the report: out of memory");
		return -ENOMEM;
	}
	struct atomic_file af;
	int rc = atomic_file_open_path(&af, path, true);
	if (rc < 0)
		return rc;
	rc = write_full(af.fd, text, strlen(text));
	if (rc == 0)
		rc = write_full(af.fd, "\n", 1);
	if (rc == 0 && fchmod(af.fd, 0644) < 0)
		rc = -errno;
	if (rc == 0)
		rc = atomic_file_commit(&af, true);
	else
		log_error("writing the report %s: %s", path, strerror(-rc));
	atomic_file_discard(&af);
	return rc;
}
