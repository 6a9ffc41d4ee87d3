"""Alert routing: contact points, the notification policy tree, inhibition and maintenance.

Modules: ``models`` (tables), ``matchers`` (label matchers), ``contact_points``, ``policy``
(the tree and ``route``), ``inhibition``, ``maintenance``, ``dispatch`` (notification rows of
an alert change, reminders, held-back notices) and ``delivery`` (one message per group).
"""
