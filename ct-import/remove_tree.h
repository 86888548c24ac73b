/* rm -rf for what ct-import made itself (a half-made container, scratch
 * space): one helper, so every cleanup keeps the same limits. */
#ifndef CTI_REMOVE_TREE_H
#define CTI_REMOVE_TREE_H

/* Remove dir and everything below it, staying on its file system and never
 * following a symlink. Failures other than ENOENT are logged as warnings
 * and the rest is still removed. */
void remove_tree(const char *dir);

#endif
