"""Alert routing: contact points, the notification policy tree, inhibition and maintenance."""
