// The cluster router: where a new run starts (detail/router.hpp). A start
// goes to the id's first choice when it is up (it alone knows whether the
// id was started elsewhere while it was away), else by lookup to the node
// that has the id or the first live node of the ranking.
#include "endure/net/cluster/detail/router.hpp"

#include "endure/net/cluster/placement.hpp"

namespace endure::cluster::router_detail {

void remember(node_actor* self, const std::string& id, const std::string& name) {
  auto& st = self->state;
  if (st.located.size() >= max_located)
    st.located.clear();
  st.located[id] = name;
}

void forget_refused(node_actor* self, const std::string& id, const std::string& name,
                    const caf::error& e) {
  auto code = endure::detail::from_caf_error(e, "").code;
  if (code == errc::shut_down || code == errc::timeout)
    return;
  auto& st = self->state;
  if (auto it = st.located.find(id); it != st.located.end() && it->second == name)
    st.located.erase(it);
}

void start_as_first_choice(node_actor* self, guarded_reply rp, const std::string& workflow,
                           const std::string& id, const std::string& input) {
  when_settled(self, [=] {
    auto& st = self->state;
    auto& first = st.members.at(rank_nodes(id, st.names).front());
    auto* m = hosted_here(self, first) ? &first : &self_member(self);
    if (auto it = st.spilled.find(id); it != st.spilled.end()) {
      m = &st.members.at(it->second);
      if (!m->up)
        return rp.deliver(to_caf_error(
          errc::shut_down, "run " + id + " is on node " + m->name
                             + ", away now: it is unavailable, not lost, and resumes when its "
                               "node returns (start it again then to attach)"));
    }
    auto token = ++st.next_token;
    m->pending.emplace(token, rp);
    self->request(m->runtime, caf::duration{forward_slack}, svc::start_atom::value, workflow, id,
                  input)
      .then(
        [self, rp, token, name = m->name](run_meta& meta) {
          self->state.members.at(name).pending.erase(token);
          rp.deliver(std::move(meta), name);
        },
        [self, rp, token, name = m->name](caf::error& e) {
          self->state.members.at(name).pending.erase(token);
          rp.deliver(std::move(e));
        });
  });
}

void start_by_lookup(node_actor* self, guarded_reply rp, const std::string& workflow,
                     const std::string& id, const std::string& input) {
  locate(self, id, [=](member* m, std::vector<std::string>) {
    auto& st = self->state;
    if (!m) {
      for (auto& name : rank_nodes(id, st.names)) {
        auto& candidate = st.members.at(name);
        if (candidate.up || candidate.is_self) {
          m = &candidate;
          break;
        }
      }
    }
    // Remembered from now (a start the node took in hand when it went
    // away may have made the run), forgotten when the node refused it
    // (an unknown workflow, a bad id: no run there).
    remember(self, id, m->name);
    auto seen = [self, id, name = m->name](const caf::error* e) {
      if (e)
        forget_refused(self, id, name, *e);
    };
    auto target = m->is_self ? caf::actor_cast<caf::actor>(self) : m->router;
    forward_seen_to<run_meta>(self, *m, target, rp, caf::duration{forward_slack + forward_slack},
                              seen, placed_start_atom::value, workflow, id, input, m->name);
  });
}

void placed_start(node_actor* self, guarded_reply rp, const std::string& workflow,
                  const std::string& id, const std::string& input, const std::string& on) {
  auto& st = self->state;
  auto& first = st.members.at(rank_nodes(id, st.names).front());
  auto target = st.members.find(on);
  auto& here = target != st.members.end() && hosted_here(self, target->second)
                 ? target->second : self_member(self);
  if (hosted_here(self, first))
    return start_as_first_choice(self, rp, workflow, id, input);
  if (!first.is_self && first.up)
    return forward_seen_to<run_meta>(self, first, first.router, rp,
                                     caf::duration{forward_slack + forward_slack},
                                     [](const caf::error*) {}, svc::start_atom::value, workflow,
                                     id, input);
  auto tell = [self, id, name = first.name, holder = here.name](const caf::error* e) {
    if (e)
      return;
    auto& m = self->state.members.at(name);
    if (!m.is_self && m.up)
      self->send(m.router, spill_atom::value, holder, id);
  };
  forward_seen<run_meta>(self, here, rp, caf::duration{forward_slack}, tell,
                         svc::start_atom::value, workflow, id, input);
}

void start_run(node_actor* self, guarded_reply rp, const std::string& workflow,
               const std::string& id, const std::string& input) {
  when_settled(self, [=] {
    auto& st = self->state;
    if (auto it = st.located.find(id); it != st.located.end()) {
      auto& owner = st.members.at(it->second);
      // Known to be on a node that is away: starting it on another node
      // would make a second run of the id (both resume when it returns).
      if (!owner.up && !owner.is_self)
        return rp.deliver(to_caf_error(
          errc::shut_down, "run " + id + " is on node " + owner.name
                             + ", away now: it is unavailable, not lost, and resumes when its "
                               "node returns (start it again then to attach)"));
      // Remembered on the first choice: ask it again (it knows where the
      // run is, its runtime alone may not).
      if (owner.name != rank_nodes(id, st.names).front())
        return forward<run_meta>(self, owner, rp, caf::duration{forward_slack},
                                 svc::start_atom::value, workflow, id, input);
    }
    auto& first = st.members.at(rank_nodes(id, st.names).front());
    if (!first.up && !first.is_self)
      return start_by_lookup(self, rp, workflow, id, input);
    remember(self, id, first.name);  // until the answer says where (see start_by_lookup)
    auto token = ++st.next_token;
    first.pending.emplace(token, rp);
    auto target = first.is_self ? caf::actor_cast<caf::actor>(self) : first.router;
    self->request(target, caf::duration{forward_slack + forward_slack}, first_start_atom::value,
                  workflow, id, input)
      .then(
        [self, rp, id, token, name = first.name](run_meta& meta, const std::string& holder) {
          self->state.members.at(name).pending.erase(token);
          if (self->state.members.count(holder))
            remember(self, id, holder);
          rp.deliver(std::move(meta));
        },
        [self, rp, id, token, name = first.name](caf::error& e) {
          self->state.members.at(name).pending.erase(token);
          // The first choice answered (it made no run: the holder it knows
          // is away, or refused): forget it. Unanswered (it went away or
          // timed out), it may have made the run: keep it.
          if (e != caf::sec::request_timeout && e != caf::sec::request_receiver_down) {
            auto& st = self->state;
            if (auto it = st.located.find(id); it != st.located.end() && it->second == name)
              st.located.erase(it);
          }
          rp.deliver(std::move(e));
        });
  });
}

} // namespace endure::cluster::router_detail
