// The query console: plain JavaScript, no library, and nothing fetched but this server's
// /graphql, so that it works on a network without internet access. The API key lives in this
// tab's sessionStorage and goes with each request as `Authorization: Bearer <key>`. Everything
// shown is set as text (never as HTML).
"use strict";

(function () {
  const ENDPOINT = "/graphql";
  const KEY_ITEM = "recipient-inventory.key";
  const QUERY_ITEM = "recipient-inventory.query";
  const VARIABLES_ITEM = "recipient-inventory.variables";
  const DEFAULT_QUERY = [
    "# Ctrl+Enter runs the query; the schema's types are listed beside it.",
    "query FirstRecipients {",
    "  recipients(first: 5) {",
    "    totalCount",
    "    edges { node { slug name status country } }",
    "  }",
    "}",
    "",
  ].join("\n");
  // What the types list needs; deep enough for [Type!]! (three wrappers around a name).
  const SCHEMA_QUERY = `query ConsoleSchema {
  __schema {
    queryType { name }
    mutationType { name }
    types {
      kind name description
      fields { name description isDeprecated deprecationReason type { ...Ref }
        args { name description defaultValue type { ...Ref } } }
      inputFields { name description defaultValue type { ...Ref } }
      enumValues { name description isDeprecated deprecationReason }
      possibleTypes { name }
    }
  }
}
fragment Ref on __Type { kind name ofType { kind name ofType { kind name ofType { kind name } } } }`;

  const byId = (id) => document.getElementById(id);
  const ui = {
    keyForm: byId("key-form"),
    key: byId("key"),
    forgetKey: byId("forget-key"),
    keyState: byId("key-state"),
    editors: document.querySelector(".editors"),
    query: byId("query"),
    variables: byId("variables"),
    operation: byId("operation"),
    run: byId("run"),
    resultState: byId("result-state"),
    resultErrors: byId("result-errors"),
    result: byId("result"),
    schemaState: byId("schema-state"),
    typeFilter: byId("type-filter"),
    types: byId("types"),
    typeDetail: byId("type-detail"),
  };
  let types = new Map();
  let rootTypes = [];
  let schemaLoads = 0; // only the latest load of the schema shows its answer
  let leaveOnTab = false;

  // An element with properties (className, textContent, type...), data-* attributes from
  // `data`, and children (strings become text).
  function element(tag, props = {}, ...children) {
    const node = document.createElement(tag);
    const { data, ...rest } = props;
    Object.assign(node, rest);
    Object.assign(node.dataset, data || {});
    node.append(...children.filter((child) => child !== null && child !== undefined));
    return node;
  }

  // -- the key ---------------------------------------------------------------------------------

  // A link may carry the key as #key=<key>: kept for this tab, then taken out of the address
  // (and so out of the history) at once.
  function takeKeyFromFragment() {
    const match = /^#key=(.*)$/.exec(location.hash);
    if (!match) return false;
    let key = "";
    try {
      key = decodeURIComponent(match[1]).trim();
    } catch (error) {
      key = "";
    }
    if (key) sessionStorage.setItem(KEY_ITEM, key);
    history.replaceState(null, "", location.pathname + location.search);
    return true;
  }

  function storedKey() {
    return sessionStorage.getItem(KEY_ITEM) || "";
  }

  function showKeyState() {
    ui.keyState.textContent = storedKey()
      ? "A key is set for this tab."
      : "No key yet: every request needs one.";
  }

  // -- requests --------------------------------------------------------------------------------

  async function send(query, variables, operationName) {
    const headers = {
      "Content-Type": "application/json",
      Accept: "application/graphql-response+json, application/json;q=0.9",
    };
    const key = storedKey();
    if (key) headers.Authorization = "Bearer " + key;
    const body = { query };
    if (variables) body.variables = variables;
    if (operationName) body.operationName = operationName;
    const started = performance.now();
    const response = await fetch(ENDPOINT, {
      method: "POST",
      headers,
      body: JSON.stringify(body),
      cache: "no-store",
    });
    const text = await response.text();
    let json = null;
    try {
      json = JSON.parse(text);
    } catch (error) {
      json = null; // not JSON: shown as it came
    }
    return { response, text, json, ms: Math.round(performance.now() - started) };
  }

  function errorLine(error) {
    const code = error.extensions && error.extensions.code;
    const path = Array.isArray(error.path) ? " (at " + error.path.join(".") + ")" : "";
    return (code ? code + ": " : "") + String(error.message) + path;
  }

  function errorsOf(answer) {
    return answer.json && Array.isArray(answer.json.errors) ? answer.json.errors : [];
  }

  // Why an answer has no data, in one line.
  function failureOf(answer) {
    const errors = errorsOf(answer);
    if (errors.length) return errors.map(errorLine).join("; ");
    return "HTTP " + answer.response.status + " " + answer.response.statusText;
  }

  // -- running a query -------------------------------------------------------------------------

  function showProblem(message) {
    ui.resultState.textContent = message;
    ui.resultState.classList.add("failed");
    ui.resultErrors.replaceChildren();
    ui.result.textContent = "";
  }

  function showAnswer(answer) {
    const { response } = answer;
    const facts = ["HTTP " + response.status + " " + response.statusText, answer.ms + " ms"];
    const requestId = response.headers.get("x-request-id");
    if (requestId) facts.push("request " + requestId);
    const retryAfter = response.headers.get("retry-after");
    if (retryAfter) facts.push("retry after " + retryAfter + " s");
    const errors = errorsOf(answer);
    ui.resultState.textContent = facts.join(" · ");
    ui.resultState.classList.toggle("failed", !response.ok || errors.length > 0);
    ui.resultErrors.replaceChildren(...errors.map((error) => element("li", {}, errorLine(error))));
    ui.result.textContent = answer.json === null ? answer.text : JSON.stringify(answer.json, null, 2);
  }

  async function run() {
    const query = ui.query.value;
    if (!query.trim()) {
      showProblem("Write a query first.");
      ui.query.focus();
      return;
    }
    let variables = null;
    const text = ui.variables.value.trim();
    if (text) {
      try {
        variables = JSON.parse(text);
      } catch (error) {
        showProblem("The variables are not valid JSON: " + error.message);
        ui.variables.focus();
        return;
      }
      if (variables === null || typeof variables !== "object" || Array.isArray(variables)) {
        showProblem('The variables must be a JSON object, like {"slug": "acme-mail"}.');
        ui.variables.focus();
        return;
      }
    }
    ui.run.disabled = true;
    ui.resultState.classList.remove("failed");
    ui.resultState.textContent = "Running…";
    try {
      showAnswer(await send(query, variables, ui.operation.value.trim()));
    } catch (error) {
      showProblem("No answer from the server: " + error.message);
    } finally {
      ui.run.disabled = false;
    }
  }

  // Ctrl/Cmd+Enter runs from any field of the request. In an editor Tab indents, except right
  // after Esc, so that the keyboard can always leave it.
  function requestKeys(event) {
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
      event.preventDefault();
      run();
      return;
    }
    const leave = leaveOnTab;
    leaveOnTab = event.key === "Escape";
    const plainTab =
      event.key === "Tab" && !event.shiftKey && !event.ctrlKey && !event.altKey && !event.metaKey;
    if (plainTab && !leave && event.target instanceof HTMLTextAreaElement) {
      event.preventDefault();
      const editor = event.target;
      editor.setRangeText("  ", editor.selectionStart, editor.selectionEnd, "end");
      remember();
    }
  }

  function remember() {
    sessionStorage.setItem(QUERY_ITEM, ui.query.value);
    sessionStorage.setItem(VARIABLES_ITEM, ui.variables.value);
  }

  // -- the schema ------------------------------------------------------------------------------

  async function loadSchema() {
    const load = ++schemaLoads;
    types = new Map();
    rootTypes = [];
    ui.types.replaceChildren();
    ui.typeDetail.replaceChildren();
    if (!storedKey()) {
      ui.schemaState.textContent = "Give an API key to list the schema's types.";
      return;
    }
    ui.schemaState.textContent = "Loading the schema…";
    let answer;
    try {
      answer = await send(SCHEMA_QUERY);
    } catch (error) {
      if (load === schemaLoads) ui.schemaState.textContent = "Could not load the schema: " + error.message;
      return;
    }
    if (load !== schemaLoads) return;
    const schema = answer.json && answer.json.data && answer.json.data.__schema;
    if (!schema) {
      ui.schemaState.textContent = "Could not load the schema: " + failureOf(answer);
      return;
    }
    for (const type of schema.types) {
      if (!type.name.startsWith("__")) types.set(type.name, type);
    }
    rootTypes = [schema.queryType, schema.mutationType]
      .filter((root) => root && types.has(root.name))
      .map((root) => root.name);
    ui.schemaState.textContent = types.size + " types; choose one to see its fields.";
    listTypes();
  }

  function kindName(type) {
    return type.kind.toLowerCase().replace("_", " "); // input_object: input object
  }

  function typeButton(name) {
    return element("button", { type: "button", className: "type-link", data: { type: name } }, name);
  }

  // The roots (Query, Mutation) first, then every other type by name.
  function listTypes() {
    const wanted = ui.typeFilter.value.trim().toLowerCase();
    const others = [...types.keys()].filter((name) => !rootTypes.includes(name)).sort();
    const items = [...rootTypes, ...others]
      .filter((name) => name.toLowerCase().includes(wanted))
      .map((name) =>
        element(
          "li",
          {},
          typeButton(name),
          " ",
          element("span", { className: "kind" }, kindName(types.get(name))),
        ),
      );
    ui.types.replaceChildren(...items);
  }

  // A type reference as the SDL writes it ([Recipient!]!), each named type a button.
  function typeReference(ref) {
    if (ref.kind === "NON_NULL") return [...typeReference(ref.ofType), "!"];
    if (ref.kind === "LIST") return ["[", ...typeReference(ref.ofType), "]"];
    return [types.has(ref.name) ? typeButton(ref.name) : ref.name];
  }

  function deprecation(item) {
    return item.isDeprecated ? " Deprecated: " + (item.deprecationReason || "no reason given.") : "";
  }

  function fieldList(fields) {
    const list = element("dl", { className: "fields" });
    for (const field of fields) {
      const signature = [element("code", { className: "name" }, field.name)];
      if (field.args && field.args.length) {
        signature.push("(");
        field.args.forEach((arg, index) => {
          if (index) signature.push(", ");
          signature.push(arg.name + ": ", ...typeReference(arg.type));
          if (arg.defaultValue !== null) signature.push(" = " + arg.defaultValue);
        });
        signature.push(")");
      }
      signature.push(": ", ...typeReference(field.type));
      if (field.defaultValue !== undefined && field.defaultValue !== null) {
        signature.push(" = " + field.defaultValue);
      }
      list.append(element("dt", {}, ...signature));
      const about = (field.description || "") + deprecation(field);
      if (about) list.append(element("dd", {}, about.trim()));
      for (const arg of field.args || []) {
        if (arg.description) list.append(element("dd", { className: "arg" }, arg.name + ": " + arg.description));
      }
    }
    return list;
  }

  function showType(name) {
    const type = types.get(name);
    if (!type) return;
    const parts = [element("h3", {}, name, " ", element("span", { className: "kind" }, kindName(type)))];
    if (type.description) parts.push(element("p", {}, type.description));
    const fields = type.fields || type.inputFields || [];
    if (fields.length) parts.push(element("h4", {}, "Fields"), fieldList(fields));
    if (type.enumValues && type.enumValues.length) {
      const values = element("dl", { className: "fields" });
      for (const value of type.enumValues) {
        values.append(element("dt", {}, element("code", { className: "name" }, value.name)));
        const about = (value.description || "") + deprecation(value);
        if (about) values.append(element("dd", {}, about.trim()));
      }
      parts.push(element("h4", {}, "Values"), values);
    }
    if (type.possibleTypes && type.possibleTypes.length) {
      const members = element("ul", { className: "members" });
      for (const member of type.possibleTypes) members.append(element("li", {}, typeButton(member.name)));
      parts.push(element("h4", {}, type.kind === "UNION" ? "One of" : "Implemented by"), members);
    }
    ui.typeDetail.replaceChildren(...parts);
    for (const button of ui.types.querySelectorAll("[data-type]")) {
      if (button.dataset.type === name) button.setAttribute("aria-current", "true");
      else button.removeAttribute("aria-current");
    }
    ui.typeDetail.focus();
  }

  // -- start -----------------------------------------------------------------------------------

  takeKeyFromFragment();
  ui.query.value = sessionStorage.getItem(QUERY_ITEM) ?? DEFAULT_QUERY;
  ui.variables.value = sessionStorage.getItem(VARIABLES_ITEM) ?? "";
  showKeyState();

  ui.keyForm.addEventListener("submit", (event) => {
    event.preventDefault();
    const key = ui.key.value.trim();
    ui.key.value = "";
    if (!key) {
      ui.keyState.textContent = "Type or paste a key first.";
      ui.key.focus();
      return;
    }
    sessionStorage.setItem(KEY_ITEM, key);
    showKeyState();
    loadSchema();
  });
  ui.forgetKey.addEventListener("click", () => {
    sessionStorage.removeItem(KEY_ITEM);
    showKeyState();
    loadSchema();
  });
  window.addEventListener("hashchange", () => {
    if (takeKeyFromFragment()) {
      showKeyState();
      loadSchema();
    }
  });
  ui.editors.addEventListener("keydown", requestKeys);
  ui.query.addEventListener("input", remember);
  ui.variables.addEventListener("input", remember);
  ui.run.addEventListener("click", run);
  ui.typeFilter.addEventListener("input", listTypes);
  document.addEventListener("click", (event) => {
    const link = event.target instanceof Element && event.target.closest("[data-type]");
    if (link) showType(link.dataset.type);
  });
  loadSchema();
})();
