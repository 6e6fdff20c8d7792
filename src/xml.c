/* xml.c - callback-per-element XML reading; see include/ferry/xml.h. */
#include "ferry/xml.h"

#include <stdio.h>
#include <string.h>

#include <expat.h>

#include "ferry/buf.h"

struct parse_state {
    XML_Parser parser;
    struct ferry_buf path;
    struct ferry_buf text;
    ferry_xml_fn fn;
    void *ud;
    int stopped;
};

/* Strips a namespace prefix ("ns:Name"), as S3 may send a default ns. */
static const char *local_name(const char *name)
{
    const char *colon = strrchr(name, ':');

    return colon ? colon + 1 : name;
}

static void on_start(void *ud, const char *name, const char **attrs)
{
    struct parse_state *st = ud;

    if (st->path.len)
        ferry_buf_addc(&st->path, '/');
    ferry_buf_adds(&st->path, local_name(name));
    ferry_buf_reset(&st->text);
}

static void on_end(void *ud, const char *name)
{
    struct parse_state *st = ud;
    char *slash;

    if (!st->stopped && st->fn(st->ud, st->path.data, st->text.data)) {
        st->stopped = 1;
        XML_StopParser(st->parser, XML_FALSE);
    }
    slash = strrchr(st->path.data, '/');
    st->path.len = slash ? (size_t)(slash - st->path.data) : 0;
    st->path.data[st->path.len] = '\0';
    ferry_buf_reset(&st->text);
}

static void on_text(void *ud, const char *s, int len)
{
    struct parse_state *st = ud;

    ferry_buf_add(&st->text, s, (size_t)len);
}

/* Any DTD at all is refused: S3 answers never carry one. */
static void on_doctype(void *ud, const char *name, const char *sysid,
                       const char *pubid, int has_internal)
{
    struct parse_state *st = ud;

    st->stopped = -1;
    XML_StopParser(st->parser, XML_FALSE);
}

/*
 * S3 may send a 200 at once and then white space while it works, before
 * the document proper; expat wants the declaration first.
 */
static void skip_space(const char **doc, size_t *len)
{
    while (*len &&
           (**doc == ' ' || **doc == '\n' || **doc == '\r' || **doc == '\t')) {
        (*doc)++;
        (*len)--;
    }
}

int ferry_xml_parse(const char *doc, size_t len, ferry_xml_fn fn, void *ud)
{
    struct parse_state st = { 0 };
    int rc = 0;

    skip_space(&doc, &len);
    st.parser = XML_ParserCreateNS(NULL, ':');
    if (!st.parser)
        return -1;
    st.fn = fn;
    st.ud = ud;
    ferry_buf_init(&st.path);
    ferry_buf_init(&st.text);
    XML_SetUserData(st.parser, &st);
    XML_SetElementHandler(st.parser, on_start, on_end);
    XML_SetCharacterDataHandler(st.parser, on_text);
    XML_SetStartDoctypeDeclHandler(st.parser, on_doctype);
    if (XML_Parse(st.parser, doc, (int)len, XML_TRUE) == XML_STATUS_ERROR &&
        st.stopped != 1)
        rc = -1;
    if (st.stopped == -1)
        rc = -1;
    XML_ParserFree(st.parser);
    ferry_buf_release(&st.path);
    ferry_buf_release(&st.text);
    return rc;
}

struct root_state {
    char *out;
    size_t outlen;
};

static void root_start(void *ud, const char *name, const char **attrs)
{
    struct root_state *rs = ud;

    if (!rs->out[0])
        snprintf(rs->out, rs->outlen, "%s", local_name(name));
}

void ferry_xml_root(char *out, size_t outlen, const char *doc, size_t len)
{
    XML_Parser p = XML_ParserCreateNS(NULL, ':');
    struct root_state rs = { out, outlen };

    out[0] = '\0';
    if (!p)
        return;
    skip_space(&doc, &len);
    XML_SetUserData(p, &rs);
    XML_SetStartElementHandler(p, root_start);
    XML_Parse(p, doc, (int)len, XML_TRUE);
    XML_ParserFree(p);
}

void ferry_xml_escape(struct ferry_buf *out, const char *s)
{
    for (; *s; s++) {
        switch (*s) {
        case '&': ferry_buf_adds(out, "&amp;"); break;
        case '<': ferry_buf_adds(out, "&lt;"); break;
        case '>': ferry_buf_adds(out, "&gt;"); break;
        case '"': ferry_buf_adds(out, "&quot;"); break;
        case '\'': ferry_buf_adds(out, "&apos;"); break;
        default: ferry_buf_addc(out, *s);
        }
    }
}
