// Deciding a request from the page: approve, edit (a form built from the
// tool's JSON schema), reject with a reason, respond with text. Each posts
// {"decision", ...} to /api/v1/requests/ID/decision and announces the
// change as the window event "endure:changed" (app.js refetches the view).
import {el, pretty, show_error, show_notice} from "./dom.js";
import {api} from "./api.js";

/// Approve, edit (a form from the tool's schema), reject with a reason,
/// respond with text: each posts the decision and shows the API's answer.
export function decision_panel(q) {
  const panel = el("section", {class: "decide"}, el("h2", {}, "Decide"));
  const forms = el("div", {class: "forms"});
  const post = async (body, button) => {
    button.disabled = true;
    try {
      const res = await api("POST", "requests/" + encodeURIComponent(q.id) + "/decision", body);
      show_error("");
      show_notice("Sent " + body.decision + " for " + q.id + ": " + res.result + ".");
      forms.replaceChildren();
      window.dispatchEvent(new Event("endure:changed"));
    } catch (e) {
      show_error(e.message);
    } finally {
      button.disabled = false;
    }
  };
  const open = (form) => { forms.replaceChildren(form); };
  const approve = el("button", {type: "button", id: "approve", class: "primary",
                                onclick: (e) => post({decision: "approve"}, e.target)}, "Approve");
  const edit = el("button", {type: "button", id: "edit",
                             onclick: () => open(edit_form(q, post))}, "Edit…");
  const reject = el("button", {type: "button", id: "reject",
                               onclick: () => open(text_form("reject", "reason", "Why not",
                                                             post))}, "Reject…");
  const respond = el("button", {type: "button", id: "respond",
                                onclick: () => open(text_form("respond", "text", "Your answer",
                                                              post))}, "Respond…");
  panel.append(el("div", {class: "buttons"}, approve, edit, reject, respond), forms);
  return panel;
}

function text_form(decision, field, label, post) {
  const input = el("textarea", {id: decision + "-" + field, rows: 3, required: true});
  const send = el("button", {type: "submit", class: "primary"}, decision);
  return el("form", {onsubmit: (e) => {
    e.preventDefault();
    post({decision, [field]: input.value}, send);
  }}, el("label", {for: input.id}, label), input, send);
}

/// One input per argument, by the schema's type: string (a textarea for
/// long or multi-line text), enum (a select), number, integer, boolean (a
/// checkbox); anything else, and every argument when there is no schema,
/// as JSON in a textarea. Names are looked up as own properties only, so
/// an argument or property called "constructor" or "__proto__" is an
/// argument like any other, not something inherited from Object.
function edit_form(q, post) {
  const schema = q.schema && q.schema.properties ? q.schema : null;
  const required = new Set((schema && schema.required) || []);
  const args = q.arguments && typeof q.arguments === "object" ? q.arguments : {};
  const own = (object, name) => (Object.hasOwn(object, name) ? object[name] : undefined);
  const fields = [];
  const form = el("form", {class: "edit"});
  if (!schema) {
    const area = el("textarea", {id: "edit-json", rows: 10}, pretty(args));
    fields.push({whole: true, read: () => {
      const v = JSON.parse(area.value);
      if (!v || typeof v !== "object" || Array.isArray(v))
        throw new Error("the arguments must be a JSON object");
      return v;
    }});
    form.append(el("label", {for: area.id}, "Arguments (JSON; the tool's schema is unknown)"),
                area);
  } else {
    const names = [...Object.keys(schema.properties),
                   ...Object.keys(args).filter((k) => !Object.hasOwn(schema.properties, k))];
    for (const name of names) {
      const field = argument_field(name, own(schema.properties, name) || {}, own(args, name),
                                   required.has(name));
      fields.push(field);
      form.append(field.node);
    }
  }
  const send = el("button", {type: "submit", class: "primary"}, "Send edited arguments");
  form.append(send);
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    const edited = Object.create(null);  // "__proto__" is then a plain key
    try {
      for (const f of fields) {
        const v = f.read();
        if (f.whole) Object.assign(edited, v);
        else if (v !== undefined) edited[f.name] = v;
      }
    } catch (err) {
      show_error(err.message);
      return;
    }
    post({decision: "edit", arguments: edited}, send);
  });
  return form;
}

function argument_field(name, spec, value, required) {
  const id = "arg-" + name;
  const label = el("label", {for: id}, name + (required ? " *" : ""),
                   spec.description ? el("small", {}, " " + spec.description) : null);
  const absent = value === undefined;
  let input, read;
  if (Array.isArray(spec.enum)) {
    input = el("select", {id}, (required ? [] : [el("option", {value: ""}, "(none)")])
      .concat(spec.enum.map((v, i) => el("option", {value: i, selected: v === value},
                                         String(v)))));
    read = () => (input.value === "" ? undefined : spec.enum[Number(input.value)]);
  } else if (spec.type === "string") {
    const text = absent ? "" : String(value);
    const long = text.length > 80 || text.includes("\n") || (spec.maxLength || 0) > 200;
    input = long ? el("textarea", {id, rows: 8}, text)
                 : el("input", {id, type: "text", value: text});
    if (spec.maxLength) input.setAttribute("maxlength", spec.maxLength);
    read = () => (input.value === "" && absent && !required ? undefined : input.value);
  } else if (spec.type === "number" || spec.type === "integer") {
    input = el("input", {id, type: "number", step: spec.type === "integer" ? 1 : "any",
                         value: absent ? "" : value});
    read = () => {
      if (input.value === "" && !required) return undefined;
      const n = Number(input.value);
      if (input.value === "" || !Number.isFinite(n) ||
          (spec.type === "integer" && !Number.isInteger(n)))
        throw new Error(name + " must be " + (spec.type === "integer" ? "a whole number" :
                                                "a number"));
      return n;
    };
  } else if (spec.type === "boolean") {
    input = el("input", {id, type: "checkbox", checked: value === true});
    read = () => input.checked;
  } else {
    input = el("textarea", {id, rows: 4}, absent ? "" : JSON.stringify(value, null, 2));
    read = () => {
      if (input.value.trim() === "" && !required) return undefined;
      try { return JSON.parse(input.value); }
      catch (e) { throw new Error(name + " is not valid JSON: " + e.message); }
    };
  }
  return {name, read, node: el("div", {class: "field"}, label, input)};
}
