/* Compiled passes for the clean path of a check (see presetctl/engine/speedups.py).
 *
 * Each function is the C twin of a pure-Python function in presetctl, and answers the same
 * question at least as precisely in the safe direction: where the Python function says "clean",
 * so does this one; where this one says "clean", the document really holds nothing the slow path
 * would report. tests/test_speedups.py holds each pair against the other and against the ground
 * truth on generated documents. Without a C compiler the package falls back to the Python ones.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

/* ---- JSON text passes (the text is valid JSON that orjson parsed) ---------------------------- */

static inline int is_ident_start(unsigned char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_';
}

static inline int is_ident(unsigned char c) {
    return is_ident_start(c) || (c >= '0' && c <= '9');
}

/* dull_text(text: bytes) -> bool
 * True when every string (key or value) in the JSON text is a short ASCII identifier: a letter
 * or underscore, then letters, digits or underscores, fewer than 24 characters in all. */
static PyObject *dull_text(PyObject *self, PyObject *arg) {
    Py_buffer view;
    if (PyObject_GetBuffer(arg, &view, PyBUF_SIMPLE) < 0) {
        return NULL;
    }
    const unsigned char *p = (const unsigned char *)view.buf;
    const unsigned char *end = p + view.len;
    int dull = 1;
    while (p < end) {
        const unsigned char *q = memchr(p, '"', (size_t)(end - p));
        if (q == NULL) {
            break;
        }
        q++; /* first character of the string */
        if (q >= end || !is_ident_start(*q)) {
            dull = 0; /* empty, escaped, non-ASCII or not starting like an identifier */
            break;
        }
        const unsigned char *s = q;
        while (q < end && is_ident(*q)) {
            q++;
        }
        if (q >= end || *q != '"' || q - s >= 24) {
            dull = 0;
            break;
        }
        p = q + 1;
    }
    PyBuffer_Release(&view);
    return PyBool_FromLong(dull);
}

/* json_depth(text: bytes, limit: int) -> int | None
 * Nesting depth of the JSON text when that is plainly all a walk of its values would find, else
 * None: any escape in a string, a number with 16 or more digits in a row or an exponent of two or
 * more digits (which might overflow a float32 or be an inexact integer), or a depth over
 * limit + 1 sends the document to the walk. */
static PyObject *json_depth(PyObject *self, PyObject *args) {
    Py_buffer view;
    Py_ssize_t limit;
    if (!PyArg_ParseTuple(args, "y*n", &view, &limit)) {
        return NULL;
    }
    const unsigned char *p = (const unsigned char *)view.buf;
    const unsigned char *end = p + view.len;
    Py_ssize_t depth = 0, deepest = 0;
    int plain = 1;
    while (p < end && plain) {
        unsigned char c = *p;
        if (c == '"') {
            p++;
            while (p < end && *p != '"' && *p != '\\') {
                p++;
            }
            if (p >= end || *p == '\\') {
                plain = 0;
                break;
            }
            p++;
        } else if (c == '{' || c == '[') {
            depth++;
            if (depth > deepest) {
                deepest = depth;
            }
            p++;
        } else if (c == '}' || c == ']') {
            depth--;
            p++;
        } else if (c >= '0' && c <= '9') {
            const unsigned char *s = p;
            while (p < end && *p >= '0' && *p <= '9') {
                p++;
            }
            if (p - s >= 16) {
                plain = 0;
            }
        } else if (c == 'e' || c == 'E') {
            /* outside strings only a number's exponent (or true/false) has an e */
            p++;
            if (p < end && (*p == '+' || *p == '-')) {
                p++;
            }
            const unsigned char *s = p;
            while (p < end && *p >= '0' && *p <= '9') {
                p++;
            }
            if (p - s >= 2) {
                plain = 0;
            }
        } else {
            p++;
        }
    }
    PyBuffer_Release(&view);
    if (!plain || deepest > limit + 1) {
        Py_RETURN_NONE;
    }
    return PyLong_FromSsize_t(deepest);
}

/* ---- parameter lists ------------------------------------------------------------------------ */

/* Interned key strings, made once when the module is imported and never changed after. */
static PyObject *KEY_NAME, *KEY_VALUE, *KEY_TYPE, *KEY_MIN, *KEY_MAX, *KEY_DEFAULT;

/* The kinds of ``_FINE_TYPES`` in presetctl/engine/rules/parameters.py: the exact value types a
 * declared type accepts. 0 float, 1 int, 2 bool, 3 enum, 4 none (no type declared). */
static int kind_accepts(int kind, PyObject *value) {
    if (PyFloat_CheckExact(value)) {
        return kind == 0 || kind == 4;
    }
    if (PyLong_CheckExact(value)) {
        return kind == 0 || kind == 1 || kind == 3 || kind == 4;
    }
    if (PyBool_Check(value)) {
        return kind == 2 || kind == 4;
    }
    if (PyUnicode_CheckExact(value)) {
        return kind == 3 || kind == 4;
    }
    return 0;
}

/* -1: not a kind of _FINE_TYPES (the pair cannot be fine), -2: unhashable (a TypeError in Python) */
static int kind_of(PyObject *kind) {
    if (kind == NULL || kind == Py_None) {
        return 4;
    }
    if (PyUnicode_Check(kind)) {
        if (PyUnicode_CompareWithASCIIString(kind, "float") == 0) return 0;
        if (PyUnicode_CompareWithASCIIString(kind, "int") == 0) return 1;
        if (PyUnicode_CompareWithASCIIString(kind, "bool") == 0) return 2;
        if (PyUnicode_CompareWithASCIIString(kind, "enum") == 0) return 3;
        return -1;
    }
    if (PyList_Check(kind) || PyDict_Check(kind)) {
        return -2;
    }
    return -1;
}

/* A TypeError means "look closely" (False); any other error propagates, as in Python. */
static PyObject *false_on_type_error(void) {
    if (PyErr_ExceptionMatches(PyExc_TypeError)) {
        PyErr_Clear();
        Py_RETURN_FALSE;
    }
    return NULL;
}

/* plainly_fine(params: list) -> bool: ``_plainly_fine`` of presetctl/engine/rules/parameters.py. */
static PyObject *plainly_fine(PyObject *self, PyObject *params) {
    if (!PyList_Check(params)) {
        PyErr_SetString(PyExc_TypeError, "plainly_fine expects a list");
        return NULL;
    }
    PyObject *names = PySet_New(NULL);
    if (names == NULL) {
        return NULL;
    }
    PyObject *result = NULL;
    Py_ssize_t seen = 0;
    /* Pass 1, as Python's: every item a dict (dict.get on anything else is a TypeError), names unique.
     * Sizes are read at each step and objects held while hashing or comparing may run Python code. */
    for (Py_ssize_t i = 0; i < PyList_GET_SIZE(params); i++) {
        PyObject *p = PyList_GET_ITEM(params, i);
        if (!PyDict_Check(p)) {
            Py_DECREF(names);
            Py_RETURN_FALSE;
        }
        PyObject *name = PyDict_GetItemWithError(p, KEY_NAME);
        if (name == NULL && PyErr_Occurred()) {
            goto error;
        }
        name = name != NULL ? name : Py_None;
        Py_INCREF(name);
        int added = PySet_Add(names, name);
        Py_DECREF(name);
        if (added < 0) {
            goto error;
        }
        seen++;
    }
    if (PySet_GET_SIZE(names) != seen) {
        Py_DECREF(names);
        Py_RETURN_FALSE;
    }
    Py_CLEAR(names);
    /* Pass 2: each value of a type its declared type accepts. */
    for (Py_ssize_t i = 0; i < PyList_GET_SIZE(params); i++) {
        PyObject *p = PyList_GET_ITEM(params, i);
        PyObject *value = PyDict_GetItemWithError(p, KEY_VALUE);
        if (value == NULL && PyErr_Occurred()) {
            return NULL;
        }
        PyObject *type = PyDict_GetItemWithError(p, KEY_TYPE);
        if (type == NULL && PyErr_Occurred()) {
            return NULL;
        }
        int kind = kind_of(type); /* unhashable or not a known kind: False, as in Python */
        if (kind < 0 || value == NULL || !kind_accepts(kind, value)) {
            Py_RETURN_FALSE;
        }
    }
    /* Pass 3: min <= value wherever a min is given, then value <= max wherever a max is given. */
    for (int b = 0; b < 2; b++) {
        PyObject *key = b == 0 ? KEY_MIN : KEY_MAX;
        for (Py_ssize_t i = 0; i < PyList_GET_SIZE(params); i++) { /* a comparison may change the list */
            PyObject *p = PyList_GET_ITEM(params, i);
            PyObject *bound = PyDict_GetItemWithError(p, key);
            if (bound == NULL) {
                if (PyErr_Occurred()) {
                    return NULL;
                }
                continue;
            }
            if (bound == Py_None) {
                continue;
            }
            PyObject *value = PyDict_GetItemWithError(p, KEY_VALUE);
            if (value == NULL) {
                if (PyErr_Occurred()) {
                    return NULL;
                }
                value = Py_None;
            }
            /* a comparison may run Python code: hold both while it does */
            Py_INCREF(bound);
            Py_INCREF(value);
            int ok = PyObject_RichCompareBool(bound, value, b == 0 ? Py_LE : Py_GE);
            Py_DECREF(bound);
            Py_DECREF(value);
            if (ok < 0) {
                return false_on_type_error();
            }
            if (!ok) {
                Py_RETURN_FALSE;
            }
        }
    }
    Py_RETURN_TRUE;
error:
    Py_XDECREF(names);
    result = false_on_type_error();
    return result;
}

/* A bound as ``_num`` in presetctl_json.py has it: a float for an int or a float (not a bool), else None. */
static PyObject *as_number(PyObject *v) {
    if (v != NULL && !PyBool_Check(v) && (PyLong_Check(v) || PyFloat_Check(v))) {
        return PyNumber_Float(v);
    }
    Py_RETURN_NONE;
}

/* Append ``item`` (a new reference, or NULL for an error) to ``list``. */
static int append_new(PyObject *list, PyObject *item) {
    if (item == NULL) {
        return -1;
    }
    int rc = PyList_Append(list, item);
    Py_DECREF(item);
    return rc;
}

/* param_columns(params: list) -> tuple[tuple, tuple, tuple, tuple, tuple] | None
 * ``_columns`` of presetctl/engine/formats/presetctl_json.py: names, values, minimums, maximums
 * and defaults of the dict items, in order. None when an item is a dict subclass (whose ``get``
 * may differ): the Python loop decides then. */
static PyObject *param_columns(PyObject *self, PyObject *params) {
    if (!PyList_Check(params)) {
        PyErr_SetString(PyExc_TypeError, "param_columns expects a list");
        return NULL;
    }
    PyObject *cols[5] = {PyList_New(0), PyList_New(0), PyList_New(0), PyList_New(0), PyList_New(0)};
    PyObject *result = NULL;
    for (int c = 0; c < 5; c++) {
        if (cols[c] == NULL) {
            goto done;
        }
    }
    /* the list's size is read at each step: str() of a name may run code that changes it */
    for (Py_ssize_t i = 0; i < PyList_GET_SIZE(params); i++) {
        PyObject *p = PyList_GET_ITEM(params, i);
        if (!PyDict_Check(p)) {
            continue;
        }
        if (!PyDict_CheckExact(p)) {
            result = Py_None;
            Py_INCREF(result);
            goto done;
        }
        /* Each member is fetched right before its use: str() and float() may run Python code. */
        Py_INCREF(p);
        int failed = 1;
        PyObject *name = PyDict_GetItemWithError(p, KEY_NAME);
        if (name == NULL && PyErr_Occurred()) goto item_done;
        if (append_new(cols[0], name != NULL ? PyObject_Str(name) : PyUnicode_FromFormat("#%zd", i)) < 0) goto item_done;
        PyObject *value = PyDict_GetItemWithError(p, KEY_VALUE);
        if (value == NULL && PyErr_Occurred()) goto item_done;
        int scalar = value != NULL && (PyLong_Check(value) || PyFloat_Check(value) || PyUnicode_Check(value));
        if (PyList_Append(cols[1], scalar ? value : Py_None) < 0) goto item_done;
        PyObject *low = PyDict_GetItemWithError(p, KEY_MIN);
        if (low == NULL && PyErr_Occurred()) goto item_done;
        if (append_new(cols[2], as_number(low)) < 0) goto item_done;
        PyObject *high = PyDict_GetItemWithError(p, KEY_MAX);
        if (high == NULL && PyErr_Occurred()) goto item_done;
        if (append_new(cols[3], as_number(high)) < 0) goto item_done;
        PyObject *deflt = PyDict_GetItemWithError(p, KEY_DEFAULT);
        if (deflt == NULL && PyErr_Occurred()) goto item_done;
        if (PyList_Append(cols[4], deflt != NULL ? deflt : Py_None) < 0) goto item_done;
        failed = 0;
    item_done:
        Py_DECREF(p);
        if (failed) goto done;
    }
    result = PyTuple_New(5);
    if (result == NULL) goto done;
    for (int c = 0; c < 5; c++) {
        PyObject *t = PyList_AsTuple(cols[c]);
        if (t == NULL) {
            Py_CLEAR(result);
            goto done;
        }
        PyTuple_SET_ITEM(result, c, t);
    }
done:
    for (int c = 0; c < 5; c++) {
        Py_XDECREF(cols[c]);
    }
    return result;
}

static PyMethodDef methods[] = {
    {"dull_text", dull_text, METH_O, "Every string in the JSON text is a short ASCII identifier."},
    {"json_depth", json_depth, METH_VARARGS, "Nesting depth of plain JSON text, or None."},
    {"plainly_fine", plainly_fine, METH_O, "No parameter of the list can fail the type and range checks."},
    {"param_columns", param_columns, METH_O, "A presetctl parameter list column-wise (stats)."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "_speedups", "Compiled passes for the clean path (presetctl/engine/speedups.py).", -1,
    methods,
};

PyMODINIT_FUNC PyInit__speedups(void) {
    KEY_NAME = PyUnicode_InternFromString("name");
    KEY_VALUE = PyUnicode_InternFromString("value");
    KEY_TYPE = PyUnicode_InternFromString("type");
    KEY_MIN = PyUnicode_InternFromString("min");
    KEY_MAX = PyUnicode_InternFromString("max");
    KEY_DEFAULT = PyUnicode_InternFromString("default");
    if (!KEY_NAME || !KEY_VALUE || !KEY_TYPE || !KEY_MIN || !KEY_MAX || !KEY_DEFAULT) {
        return NULL;
    }
    return PyModule_Create(&module);
}
